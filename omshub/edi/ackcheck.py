"""Check an acknowledgement we wrote with pyx12 before a partner's translator sees it.

pyx12 ships a 997 map, but a HIPAA one: its code lists allow only HIPAA functional groups and
sets in AK101/AK201, HIPAA versions in GS08 and HIPAA id qualifiers in ISA05/07, so a correct 997
for an 850 fails on 'AK1*PO not found'. The maps used here are pyx12's own, with exactly those
HIPAA-only lists removed (the data element's type and length still apply); for 005010 the 997's
additions (AK103, AK203, AK401-3 and the new 716/718/723 codes) are added. Every other rule
(segment order and repeats, mandatory elements, AK3/AK4/AK5/AK9/TA1 code lists, trailer counts
and control numbers) is pyx12's.
"""

from __future__ import annotations

import atexit
import json
import logging
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from importlib.resources import files
from io import StringIO
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

_HIPAA_ONLY = {"ISA05", "ISA07", "GS01", "GS08", "AK101", "AK201"}
_ADDED_5010 = {  # xid prefix -> codes 005010 added to the list
    "AK5": ["18", "19"],
    "AK9": ["19"],
    "AK403": ["12", "13"],
}
_MAP_997 = {"00401": "997.any.4010.xml", "00501": "997.any.5010.xml"}
_MAP_999 = "999.any.5010X231A1.xml"  # from pyx12's 999.5010X231.A1.xml
_CONTROL = {"00401": "x12.control.00401.xml", "00501": "x12.control.00501.xml"}
_INDEX_LOCK = threading.Lock()  # maps.xml is rewritten per check (pyx12 needs exact GS08s)


def _load(name: str) -> Element:
    import defusedxml.ElementTree as safe_et  # no entity expansion (pyx12's own parser)

    with files("pyx12").joinpath("map", name).open("rb") as fd:
        root: Element = safe_et.parse(fd).getroot()
        return root


def _element(xid: str, data_ele: str, name: str, seq: str, tag: str = "element") -> Element:
    node = Element(tag, {"xid": xid})
    for key, value in (("data_ele", data_ele), ("name", name), ("usage", "S"), ("seq", seq)):
        SubElement(node, key).text = value
    return node


def _widen(root: Element, icvn: str, add_5010: bool = True) -> Element:
    """Drop the HIPAA-only code lists; for 00501 add what 005010's 997 added.

    pyx12's 999 map is already a 005010 one: only its HIPAA-only lists go (add_5010 False).
    """
    for node in root.iter("element"):
        xid = node.get("xid", "")
        codes = node.find("valid_codes")
        if codes is None:
            continue
        if xid in _HIPAA_ONLY:
            node.remove(codes)
        elif xid == "ISA12":  # pyx12 takes the map's version (and character set) from here
            for old in list(codes):
                codes.remove(old)
            SubElement(codes, "code").text = icvn
        elif icvn == "00501" and add_5010:
            for prefix, added in _ADDED_5010.items():
                if xid.startswith(prefix):
                    for code in added:
                        SubElement(codes, "code").text = code
    if icvn == "00501" and add_5010:
        for segment in root.iter("segment"):
            tag = segment.get("xid")
            if tag == "AK1":
                segment.append(_element("AK103", "480", "Version / Release", "03"))
            elif tag == "AK2":
                segment.append(_element("AK203", "1705", "Implementation Convention", "03"))
        for composite in root.iter("composite"):
            if composite.findtext("data_ele") == "C030":
                composite.append(_element("AK401-03", "1686", "Repeating Position", "03"))
    return root


@lru_cache(maxsize=1)
def map_dir() -> Path:
    """A folder of pyx12 maps for any 997 (kept for the life of the process)."""
    folder = Path(tempfile.mkdtemp(prefix="omshub-997-maps-"))
    atexit.register(shutil.rmtree, folder, True)
    for name in ("dataele.xml", "codes.xml"):
        (folder / name).write_bytes(files("pyx12").joinpath("map", name).read_bytes())
    for icvn, name in _CONTROL.items():
        (folder / name).write_bytes(tostring(_widen(_load(name), icvn), encoding="utf-8"))
        ack = _widen(_load("997.4010.xml"), icvn)
        (folder / _MAP_997[icvn]).write_bytes(tostring(ack, encoding="utf-8"))
    ack999 = _widen(_load("999.5010X231.A1.xml"), "00501", add_5010=False)
    (folder / _MAP_999).write_bytes(tostring(ack999, encoding="utf-8"))
    return folder


def _map_for(vriic: str) -> str:
    """The ack map for a GS08: the 999's guide, else the 997 map of the GS08's version."""
    if vriic.startswith("005010X231"):
        return _MAP_999
    return _MAP_997["00501" if vriic >= "005010" else "00401"]


def _write_index(folder: Path, versions: set[tuple[str, str]]) -> None:
    maps = Element("maps")
    for icvn in _CONTROL:
        version = SubElement(maps, "version", {"icvn": icvn})
        for vriic in sorted(v for i, v in versions if i == icvn):
            SubElement(
                version, "map", {"vriic": vriic, "fic": "FA", "abbr": "997"}
            ).text = _map_for(vriic)
        SubElement(version, "map", {"vriic": "", "fic": "", "abbr": "X12"}).text = _CONTROL[icvn]
    (folder / "maps.xml").write_bytes(tostring(maps, encoding="utf-8"))


def _versions(text: str) -> set[tuple[str, str]]:
    """(ISA12, GS08) of every group: pyx12 looks maps up by the exact GS08."""
    if len(text) < 106 or not text.startswith("ISA"):
        return set()
    element, terminator = text[3], text[105]
    found: set[tuple[str, str]] = set()
    icvn = text[84:89]
    for raw in text.split(terminator):
        fields = raw.strip("\r\n").split(element)
        if fields[0] == "ISA" and len(fields) > 12:
            icvn = fields[12]
        elif fields[0] == "GS" and len(fields) > 8:
            found.add((icvn, fields[8]))
    return found


@contextmanager
def _quiet() -> Iterator[None]:
    """pyx12 logs every finding at ERROR; they are returned instead."""
    logger = logging.getLogger("pyx12")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def _where(node: dict[str, Any], parent: str) -> str:
    """'AK4 (line 7)' for a segment, 'AK4 (line 7) element 2' for one of its elements."""
    if "seg_id" in node:
        return f"{node['seg_id']} (line {node.get('cur_line')})"
    if "ele_pos" in node:
        return f"{parent} element {node['ele_pos']}"
    for key, label in (("trn_set_control_num", "ST"), ("gs_control_num", "GS")):
        if key in node:
            return f"{label} {node[key]} (line {node.get('cur_line')})"
    return f"ISA (line {node.get('cur_line')})" if "isa_trn_set_id" in node else parent


def _findings(node: Any, out: list[str], parent: str = "") -> None:
    if isinstance(node, dict):
        where = _where(node, parent)
        for err in node.get("errors") or []:
            out.append(f"{where}: {err.get('err_cde')} {err.get('err_str')}")
        for key, value in node.items():
            if key != "errors":
                _findings(value, out, where)
    elif isinstance(node, list):
        for value in node:
            _findings(value, out, parent)


def check_ack(data: bytes | str) -> list[str]:
    """pyx12's findings on a 997 or TA1 interchange; [] means pyx12 calls it valid."""
    import pyx12.errors
    import pyx12.params
    import pyx12.x12n_document

    try:
        text = data.decode("ascii") if isinstance(data, bytes) else data
    except UnicodeDecodeError as exc:
        return [f"byte {exc.start}: not ASCII (pyx12 reads X12 as ASCII)"]
    folder = map_dir()
    report = StringIO()
    with _INDEX_LOCK, _quiet():
        _write_index(folder, _versions(text))
        try:
            valid = pyx12.x12n_document.x12n_document(
                pyx12.params.params(),
                StringIO(text),
                None,
                None,
                fd_json=report,
                map_path=str(folder),
            )
        except (pyx12.errors.X12Error, pyx12.errors.EngineError) as exc:
            return [f"pyx12: {exc}"]
    findings: list[str] = []
    if report.getvalue():
        _findings(json.loads(report.getvalue()), findings)
    if not valid and not findings:
        findings.append("pyx12: not valid, with no finding in its report (run pyx12 on the file)")
    return findings
