"""The `x12` format: one record per transaction set, shaped by its loops so mapping paths
read naturally; envelope-broken sets are BadRecords naming their segment, the rest load."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from x12sets import PO_BODY, st, x12

from connectors.base import BadRecord, iter_chunks
from connectors.errors import FormatError
from connectors.formats.x12 import X12Format
from connectors.registry import get_format
from transforms.paths import compile_path

FMT = X12Format()


def records(data: bytes, **options: Any) -> list[Any]:
    return list(FMT.records(io.BytesIO(data), options, "po.x12"))


def get(record: Any, path: str) -> Any:
    return compile_path(path)(record, [])


def test_registered_as_x12() -> None:
    assert isinstance(get_format("x12"), X12Format)


def _bare(value: Any) -> Any:
    """The record without its `_at` segment positions (asserted on their own)."""
    if isinstance(value, dict):
        return {k: _bare(v) for k, v in value.items() if k != "_at"}
    if isinstance(value, list):
        return [_bare(v) for v in value]
    return value


def test_an_850_reads_as_nested_loops() -> None:
    (raw,) = records(x12(st(PO_BODY)))
    assert raw["BEG"]["_at"] == "BEG@4" and raw["PO1"][0]["_at"].startswith("PO1@")
    rec = _bare(raw)
    assert rec["BEG"] == {"BEG01": "00", "BEG02": "SA", "BEG03": "PO123", "BEG05": "20261203"}
    assert rec["CUR"] == {"CUR01": "BY", "CUR02": "USD"}  # max use 1: a dict
    assert rec["REF"] == [{"REF01": "DP", "REF02": "042"}, {"REF01": "IA", "REF02": "V1"}]
    assert [n["N101"] for n in rec["N1"]] == ["ST", "BT"]  # trigger elements merged
    assert [n["_n"] for n in rec["N1"]] == [1, 2]  # each loop's place among its siblings
    assert rec["N1"][0]["N3"] == [{"N301": "1 MAIN ST"}]
    first = rec["PO1"][0]
    assert (first["PO101"], first["PO102"], first["PO104"]) == ("1", "12", "4.25")
    assert first["ids"] == {"UP": "012345678905", "VN": "WID-100"}
    assert first["PID"] == [
        {
            "PID01": "F",
            "PID05": "BLUE WIDGET",
            "MEA": [{"MEA02": "WT", "MEA03": "2", "MEA04": "LB"}],
            "_n": 1,
        }
    ]
    assert first["PO4"] == [{"PO401": "6"}]
    assert rec["CTT"] == [{"CTT01": "2", "AMT": {"AMT01": "TT", "AMT02": "101"}, "_n": 1}]


def test_mapping_paths_read_it() -> None:
    (rec,) = records(x12(st(PO_BODY)))
    assert get(rec, "BEG.BEG03") == "PO123"
    assert get(rec, "N1[N101=ST].N102") == "STORE 42"
    assert get(rec, "N1[N101=ST].N4[0].N402") == "IL"
    assert get(rec, "REF[REF01=IA].REF02") == "V1"
    assert get(rec, "DTM[DTM01=002].DTM02") == "20261210"
    assert get(rec, "PO1[1].ids.VN") == "GAD-200"
    assert get(rec, "CTT.AMT.AMT02") == "101"


def test_provenance() -> None:
    (rec,) = records(x12(st(PO_BODY, control="0042")))
    meta = rec["_x12"]
    assert {k: meta[k] for k in ("file", "isa13", "gs06", "st02", "set", "version", "schema")} == {
        "file": "po.x12",
        "isa13": "000000001",
        "gs06": "1",
        "st02": "0042",
        "set": "850",
        "version": "004010",
        "schema": "850.004010",
    }
    assert (meta["sender"], meta["receiver"], meta["sent"]) == (
        "SENDER",
        "RECEIVER",
        "202612030815",
    )
    assert meta["position"] == 3  # ISA, GS, then ST
    assert meta["segments"][0] == "BEG@4" and len(meta["segments"]) == len(PO_BODY)
    assert meta["problems"] == []


@pytest.mark.parametrize(
    ("gs04", "gs05", "sent"),
    [
        ("20261203", "081530", "202612030815"),
        ("950120", "0147", "199501200147"),
        ("261203", "0815", "202612030815"),
    ],
)
def test_sent_is_always_ccyymmddhhmm(gs04: str, gs05: str, sent: str) -> None:
    data = x12(st(PO_BODY)).replace(b"20261203*0815*1*X", f"{gs04}*{gs05}*1*X".encode())
    (rec,) = records(data)
    assert rec["_x12"]["sent"] == sent


ASN = [
    "BSN*00*SH1*20261203*1415",
    "HL*1**S",
    "TD5*B*2*UPSN*M*UPS Ground",
    "REF*CN*1Z1",
    "HL*2*1*O",
    "PRF*PO77",
    "HL*3*2*P",
    "MAN*GM*0001",
    "HL*4*3*I",
    "LIN*1*VN*A",
    "SN1**3*EA",
    "HL*5*2*I",
    "LIN*2*VN*B",
    "SN1**1*EA",
    "CTT*5",
]


def test_an_856_gives_items_with_their_order_pack_and_shipment() -> None:
    (rec,) = records(x12(st(ASN, "856")))
    assert len(rec["HL"]) == 5 and "order" not in rec["HL"][3]  # the flat list: own segments
    assert get(rec, "shipment.REF[REF01=CN].REF02") == "1Z1"
    assert [o["PRF"]["PRF01"] for o in rec["orders"]] == ["PO77"]
    items = rec["items"]
    assert [i["LIN"]["ids"]["VN"] for i in items] == ["A", "B"]
    assert [get(i, "order.PRF.PRF01") for i in items] == ["PO77", "PO77"]
    assert get(items[0], "pack.MAN[0].MAN02") == "0001"
    assert "pack" not in items[1]  # item 5 hangs off the order directly
    assert get(items[1], "shipment.TD5[0].TD503") == "UPSN"
    assert "shipment" not in items[0]["order"]  # ancestors are their own segments only


def test_a_set_with_a_wrong_se_count_is_a_bad_record_and_the_next_one_loads() -> None:
    bad = st(PO_BODY, control="0001")
    bad[-1] = "SE*99*0001"
    good = st(PO_BODY, control="0002")
    first, second = records(x12(bad, good))
    assert isinstance(first, BadRecord) and first.index == 0
    assert first.reason.startswith("ST 0001 (segment 3): ") and "99" in first.reason
    assert first.raw["segments"][0] == ["ST", "850", "0001"]
    assert isinstance(second, dict) and second["_x12"]["st02"] == "0002"


def test_sets_the_stream_does_not_read_are_bad_records() -> None:
    ack = st(["AK1*PO*1", "AK9*A*1*1*1"], "997", control="0002")
    po, other = records(x12(st(PO_BODY), ack), sets=["850"])
    assert isinstance(po, dict)
    assert isinstance(other, BadRecord) and "set 997 is not read by this stream" in other.reason


def test_a_set_without_a_schema_is_a_bad_record() -> None:
    (rec,) = records(x12(st(["B1**LOAD1*20261203*A"], "990")))
    assert isinstance(rec, BadRecord) and "no X12 schema for set 990" in rec.reason


def test_validation_problems_load_unless_strict() -> None:
    body = ["BEG*00*XX*PO123**20261203", *PO_BODY[1:]]
    (loose,) = records(x12(st(body)))
    assert loose["_x12"]["problems"] == [
        "segment 2 BEG: segment has data element errors; BEG02: 'XX' is not a valid code"
    ]
    (strict,) = records(x12(st(body)), strict=True)
    assert isinstance(strict, BadRecord) and "BEG02: 'XX' is not a valid code" in strict.reason


def test_a_partner_overlay_and_a_fixed_version(tmp_path: Path) -> None:
    overlay = tmp_path / "acme.yaml"
    overlay.write_text('set: "850"\nelements: {BEG02: {codes: [NE]}}\n', encoding="utf-8")
    (rec,) = records(x12(st(PO_BODY)), overlay=str(overlay), version="004010")
    assert rec["_x12"]["problems"] and "BEG02" in rec["_x12"]["problems"][0]


@pytest.mark.parametrize("data", [b"", b"  \n\r\n", b"\xef\xbb\xbf\n"])
def test_an_empty_file_has_no_records(data: bytes) -> None:
    assert records(data) == []


def test_input_that_is_not_x12_is_a_format_error() -> None:
    with pytest.raises(FormatError, match="no ISA segment"):
        records(b"id,sku\n1,A\n")


def test_read_refuses_the_first_bad_record() -> None:
    bad = st(PO_BODY)
    bad[-1] = "SE*99*0001"
    with pytest.raises(FormatError, match="ST 0001"):
        FMT.read(x12(bad), {}, "po.x12")
    assert len(FMT.read(x12(st(PO_BODY), st(PO_BODY, control="0002")), {}, "po.x12")) == 2


def test_chunks_stream_through_it() -> None:
    sets = [st(PO_BODY, control=f"{i:04d}") for i in range(1, 8)]
    chunks = list(iter_chunks(FMT, io.BytesIO(x12(*sets)), {}, "po.x12", size=3))
    assert [c.items for c in chunks] == [3, 3, 1]
    assert [r["_x12"]["st02"] for c in chunks for r in c.python_records()] == [
        f"{i:04d}" for i in range(1, 8)
    ]


def test_a_partners_required_list_as_an_option() -> None:
    (rec,) = records(x12(st(PO_BODY)), required=["REF*IA", "TD5"])
    assert rec["_x12"]["problems"] == [
        f"segment {len(PO_BODY) + 2} TD5: TD5 is missing (required by the partner)"
    ]


def test_mangled_input_gives_records_bad_records_or_a_format_error() -> None:
    """Deleted, inserted and changed bytes anywhere: never another exception, and every
    record (good or bad) is JSON for the store and the quarantine."""
    import json
    import random

    rng = random.Random(7)
    asn = st(["BSN*00*SH1*20261203*1415", "HL*1**S", "HL*2*1*I", "LIN*1*VN*A", "SN1**1*EA"], "856")
    bases = [x12(st(PO_BODY)), x12(asn, st(PO_BODY, control="0002"))]
    noise = b"*~>:^\n ABC0123HLSTPO1N4"
    outcomes = {"record": 0, "bad": 0, "error": 0}
    for _ in range(300):
        data = bytearray(rng.choice(bases))
        for _ in range(rng.randint(1, 6)):
            at = rng.randrange(len(data))
            roll = rng.random()
            if roll < 0.4:
                del data[at : at + rng.randint(1, 5)]
            elif roll < 0.8:
                data[at:at] = bytes(rng.choice(noise) for _ in range(rng.randint(1, 4)))
            else:
                data[at] = rng.choice(noise)
        try:
            for rec in records(bytes(data)):
                json.dumps(rec.raw if isinstance(rec, BadRecord) else rec)
                outcomes["bad" if isinstance(rec, BadRecord) else "record"] += 1
        except FormatError:
            outcomes["error"] += 1
    assert all(outcomes.values()), outcomes  # each outcome happens, nothing else does


def test_listing_formats_does_not_load_the_x12_machinery() -> None:
    """Every DAG parse lists formats: the reader, schemas and validation load on first read."""
    import subprocess

    code = (
        "import sys\nfrom connectors.registry import formats\nformats()\n"
        "print(sorted(m for m in sys.modules if m.startswith('connectors.x12')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
