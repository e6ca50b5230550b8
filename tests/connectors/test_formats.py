"""Formats turn bytes into raw records, keep every value as sent, and refuse unsafe XML."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connectors.base import StreamRequest
from connectors.errors import ConnectorConfigError, ConnectorError, FormatError
from connectors.registry import get_format, transport


def read(kind: str, content: bytes, **options: object) -> list:
    return get_format(kind).read(content, dict(options), "f")


def test_json_records_path_and_single_object() -> None:
    assert read(
        "json", b'{"data": {"orders": [{"id": 1}, {"id": 2}]}}', records_path="data.orders"
    ) == [{"id": 1}, {"id": 2}]
    assert read("json", b'{"id": 1}') == [{"id": 1}]
    assert read("json", '\ufeff[{"a": "Zo\u00eb"}]'.encode()) == [{"a": "Zoë"}]


@pytest.mark.parametrize(
    ("content", "options", "message"),
    [
        (b'{"orders": [}', {}, "invalid JSON"),
        (b'{"orders": []}', {"records_path": "items"}, "key 'items' not found"),
        (b"\xff\xfe", {}, "not utf-8"),
    ],
)
def test_json_errors(content: bytes, options: dict, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        read("json", content, **options)


def test_ndjson_reports_the_line() -> None:
    assert read("ndjson", b'{"a": 1}\n\n{"a": 2}\n') == [{"a": 1}, {"a": 2}]
    with pytest.raises(FormatError, match="f:2"):
        read("ndjson", b'{"a": 1}\n{"a": \n')


def test_csv_keeps_text_and_empty_is_null() -> None:
    rows = read("csv", b"sku,qty\nA,0010\nB,\n")
    assert rows == [{"sku": "A", "qty": "0010"}, {"sku": "B", "qty": None}]
    assert read("csv", b"a;b\n1;2\n", delimiter=";") == [{"a": "1", "b": "2"}]
    with pytest.raises(FormatError, match="f:3: row has 3 cells, header has 2"):
        read("csv", b"a,b\n1,2\n1,2,3\n")


XML = b"""<?xml version="1.0"?>
<ns:Envelope xmlns:ns="urn:x"><ns:Body>
  <IDOC BEGIN="1"><E1EDK02><QUALF>001</QUALF><BELNR>1001</BELNR></E1EDK02>
    <E1EDK02><QUALF>002</QUALF><BELNR>X</BELNR></E1EDK02><E1EDP01 SEGMENT="1"><POSEX>000010</POSEX></E1EDP01></IDOC>
  <IDOC BEGIN="1"><E1EDK02><QUALF>001</QUALF><BELNR>1002</BELNR></E1EDK02></IDOC>
</ns:Body></ns:Envelope>"""


def test_xml_records_as_dicts() -> None:
    rows = read("xml", XML, record_tag="IDOC")
    assert len(rows) == 2
    assert rows[0]["@BEGIN"] == "1"
    assert rows[0]["E1EDK02"][1] == {"QUALF": "002", "BELNR": "X"}
    assert rows[0]["E1EDP01"] == {"@SEGMENT": "1", "POSEX": "000010"}
    assert rows[1]["E1EDK02"]["BELNR"] == "1002"


@pytest.mark.parametrize(
    "payload",
    [
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>',
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]><r>&b;</r>',
    ],
)
def test_xml_entities_and_dtds_are_refused(payload: bytes) -> None:
    with pytest.raises(FormatError):
        read("xml", payload)


def test_external_dtd_is_never_fetched() -> None:
    # cXML documents all name an external DTD; it must neither be fetched nor fail the parse
    payload = (
        b'<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://127.0.0.1:9/evil.dtd"><r><a>1</a></r>'
    )
    assert read("xml", payload) == [{"a": "1"}]


def test_xml_syntax_error_names_the_line() -> None:
    with pytest.raises(FormatError, match=r"f:2: invalid XML"):
        read("xml", b"<a>\n<b></a>")


def test_local_folder_transport(tmp_path: Path) -> None:
    (tmp_path / "orders_2.json").write_bytes(b"[2]")
    (tmp_path / "orders_1.json").write_bytes(b"[1]")
    (tmp_path / "other.csv").write_bytes(b"x")
    t = transport("local_folder", {"path": str(tmp_path)})
    batches = list(t.fetch(StreamRequest("orders", "json", {"pattern": "orders_*.json"})))
    assert [(b.name, b.content) for b in batches] == [
        ("orders_1.json", b"[1]"),
        ("orders_2.json", b"[2]"),
    ]
    with pytest.raises(ConnectorError, match="does not exist"):
        list(
            transport("local_folder", {"path": str(tmp_path / "nope")}).fetch(
                StreamRequest("o", "json", {"pattern": "*"})
            )
        )
    with pytest.raises(ConnectorConfigError, match="unknown connector type 'ftp'"):
        transport("ftp", {})


def _depth(x: object) -> int:
    if isinstance(x, dict | list):
        values = x.values() if isinstance(x, dict) else x
        return 1 + max((_depth(v) for v in values), default=0)
    return 0


def test_the_json_depth_guard_reads_strings_right_at_any_chunk_size() -> None:
    """Brackets, quotes and backslashes inside strings never count, wherever chunks split."""
    import io
    import random
    import sys

    import ijson

    from connectors.formats.jsonsource import MAX_DOCUMENT_DEPTH, Utf8Source

    rnd = random.Random(5)

    def text() -> str:
        return "".join(rnd.choice('ab"[]{}\\\\é\n') for _ in range(rnd.randint(0, 12)))

    def build(depth: int) -> object:
        if depth == 0:
            return text()
        if rnd.random() < 0.5:
            return [text(), build(depth - 1), {"k" + text(): text()}]
        return {text(): build(depth - 1), "x": [text()]}

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(5000)
    try:
        for _ in range(120):
            doc = json.dumps([build(rnd.choice([5, 250, 254, 255, 260]))], ensure_ascii=False)
            deep = _depth(json.loads(doc)) > MAX_DOCUMENT_DEPTH
            source = Utf8Source(io.BytesIO(doc.encode()), "utf-8", "f")
            size = rnd.choice([1, 2, 3, 7, 64, 65536])
            if deep:
                with pytest.raises(FormatError, match="nested deeper than"):
                    list(ijson.items(source, "item", buf_size=size))
            else:
                assert list(ijson.items(source, "item", buf_size=size)) == json.loads(doc)
    finally:
        sys.setrecursionlimit(limit)


def test_iter_records_streams_or_falls_back_to_read() -> None:
    import io

    from connectors.base import iter_records

    class OnlyRead:
        kind = "legacy"

        def read(self, content: bytes, options: dict, name: str = "") -> list:
            return [{"n": len(content)}]

    assert list(iter_records(OnlyRead(), io.BytesIO(b"abc"), {})) == [{"n": 3}]
    stream = io.BytesIO(b'{"a": 1}\n{"a": NaN}\n')
    records = list(iter_records(get_format("ndjson"), stream, {}, "f"))
    assert records[0] == {"a": 1} and records[1].where("f") == "f:2"


def test_json_reads_a_stream_that_cannot_seek() -> None:
    import io

    class Pipe(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self.data = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def seekable(self) -> bool:
            return False

        def readinto(self, b) -> int:  # type: ignore[no-untyped-def]
            chunk = self.data.read(len(b))
            b[: len(chunk)] = chunk
            return len(chunk)

    stream = io.BufferedReader(Pipe(b'{"data": {"orders": [{"id": 1}, {"id": 2.5}]}}'))
    records = list(get_format("json").records(stream, {"records_path": "data.orders"}, "p"))
    assert records == [{"id": 1}, {"id": 2.5}] and isinstance(records[1]["id"], float)
