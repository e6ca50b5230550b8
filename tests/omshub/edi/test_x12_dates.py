"""X12 dates in both forms: CCYYMMDD (004010 on) and YYMMDD (before), the century by a
sliding window; a 003010 860 loads its PO date right, not as the year 0706."""

from __future__ import annotations

import io
from typing import Any

import pytest

from connectors.base import RecordChunk
from connectors.registry import get_format
from omshub import mappingtest
from omshub.mappings import get_mapping
from omshub.pipeline import map_records
from transforms.functions import x12_date, x12_year

PC860_003010 = (
    b"ISA*00*          *00*          *01*054481205      *01*123456789      *970501*1200*U*"
    b"00200*000000001*0*P*@!GS*PC*054481205*123456789*970501*1108*1*X*003010!"
    b"ST*860*0001!BCH*18*BE*SP7301**4*070629!POC*001*CA*0.5*0*EA*61.59**BP*23710!"
    b"SE*4*0001!GE*1*1!IEA*1*000000001!"
)


@pytest.mark.parametrize(
    ("yy", "today", "year"),
    [(76, 2026, 1976), (75, 2026, 2075), (99, 2026, 1999), (0, 2026, 2000), (7, 2026, 2007)],
)
def test_two_digit_years_take_the_century_of_the_window(yy: int, today: int, year: int) -> None:
    assert x12_year(yy, today) == year


def test_x12_date_forms() -> None:
    assert x12_date("20260115") == "20260115"
    assert x12_date(" 070629") == "20070629"
    assert x12_date("0706") == "0706"  # not a date form: passed on for the format to refuse


def _mapped(mapping: str, data: bytes) -> dict[str, Any]:
    records = list(get_format("x12").records(io.BytesIO(data), {}, "pc860.edi"))
    chunk = RecordChunk(0, list(range(len(records))), None, records, [])
    return mappingtest.canonical_output(map_records(get_mapping(mapping), chunk))


def test_a_003010_860_reads_its_yymmdd_dates() -> None:
    out = _mapped("edi/po_change_860.yaml", PC860_003010)
    assert out["rejected"] == []
    [order] = out["entities"]["sales_order"]
    assert order["ordered_at"].startswith("2007-06-29")
    assert order["_updated_at"].startswith("1997-05-01T11:08")  # GS04 970501, GS05 1108
