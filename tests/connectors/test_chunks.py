"""`iter_chunks` gives exactly what `iter_records` gives, cut into chunks of fixed size.

The row reader (`CsvFormat.records`) defines a CSV's records, BadRecords (wording, line,
raw text, index) and FormatErrors; the columnar reader must agree item for item and
position for position on every shipped sample, the bad-input corpus and generated files
full of the cases where pyarrow and the csv module could differ. Small blocks
(`BLOCK_BYTES`) make every file span many blocks, so block and chunk boundaries fall
everywhere, bad rows included.
"""

from __future__ import annotations

import io
import random
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import yaml

from connectors.base import BadRecord, RecordChunk, iter_chunks, iter_records
from connectors.errors import FormatError
from connectors.formats import csvarrow
from connectors.registry import get_format

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "corpus" / "bad_input"
CASES = yaml.safe_load((CORPUS / "cases.yaml").read_text())["cases"]
SHARED = ROOT.parent / "shared" / "samples"


def _csv_samples() -> list[Path]:
    """The project's CSV files, plus the public payloads of ../shared where it exists."""
    found = [
        *ROOT.glob("mappings/*/samples/*.csv"),
        *ROOT.glob("tests/corpus/**/*.csv"),
        *ROOT.glob("demo/systems/**/*.csv"),
        *(SHARED.glob("**/*.csv") if SHARED.is_dir() else []),
    ]
    return sorted(found)


Item = tuple[int, Any]


def _bad(b: BadRecord) -> tuple[Any, ...]:
    return ("bad", b.line, b.reason, b.raw, b.index)


def reference(kind: str, data: bytes, options: dict[str, Any]) -> tuple[list[Item], str | None]:
    """Items of the row reader, numbered as `omshub.process` numbers them, and the error."""
    out: list[Item] = []
    try:
        for i, item in enumerate(iter_records(get_format(kind), io.BytesIO(data), options, "f")):
            out.append((i, _bad(item) if isinstance(item, BadRecord) else item))
    except FormatError as e:
        return out, str(e)
    return out, None


def chunked(
    kind: str, data: bytes, options: dict[str, Any], size: int
) -> tuple[list[Item], str | None, list[RecordChunk]]:
    out: list[Item] = []
    chunks: list[RecordChunk] = []
    error = None
    try:
        for chunk in iter_chunks(get_format(kind), io.BytesIO(data), options, "f", size):
            chunks.append(chunk)
            records = chunk.python_records()
            assert len(records) == len(chunk.positions)
            out += zip(chunk.positions, records, strict=True)
            out += [(p, _bad(b)) for p, b in chunk.bad]
    except FormatError as e:
        error = str(e)
    _check_cut(chunks, size)
    return sorted(out, key=lambda item: item[0]), error, chunks


def _check_cut(chunks: list[RecordChunk], size: int) -> None:
    """Chunks of exactly `size` items (the last may be short), covering 0..n-1 in order."""
    at = 0
    for k, chunk in enumerate(chunks):
        assert chunk.start == at
        covered = sorted([*chunk.positions, *(p for p, _ in chunk.bad)])
        assert covered == list(range(at, at + chunk.items))
        assert chunk.items == size or (k == len(chunks) - 1 and 0 < chunk.items <= size)
        if chunk.table is not None:
            assert chunk.records is None and chunk.table.num_rows == len(chunk.positions)
            assert all(t == pa.string() for t in chunk.table.schema.types)
            for j in range(0, len(chunk.positions), max(1, len(chunk.positions) // 3)):
                assert chunk.raw(j) == chunk.python_records()[j]
        at += chunk.items


def assert_same(kind: str, data: bytes, options: dict[str, Any], sizes: tuple[int, ...]) -> None:
    expected = reference(kind, data, options)
    for size in sizes:
        got, error, _ = chunked(kind, data, options, size)
        assert (got, error) == expected, f"chunk size {size}"


@pytest.fixture(params=[csvarrow.BLOCK_BYTES, 64, 7], ids=["block8M", "block64", "block7"])
def block(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(csvarrow, "BLOCK_BYTES", request.param)
    return int(request.param)


@pytest.mark.parametrize("path", _csv_samples(), ids=lambda p: str(p.relative_to(ROOT.parent)))
def test_every_csv_sample_reads_the_same(path: Path, block: int) -> None:
    options = next(
        (
            {k: v for k, v in c["format"].items() if k != "type"}
            for c in CASES
            if c["file"] == path.name
        ),
        {},
    )
    assert_same("csv", path.read_bytes(), options, (1, 3, 50_000))


@pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
def test_corpus_cases_of_every_format_read_the_same(case: dict[str, Any]) -> None:
    options = dict(case["format"])
    kind = options.pop("type")
    data = (CORPUS / case["file"]).read_bytes()
    assert_same(kind, data, options, (1, 2, 50_000))


HEADER = b"order,sku,qty,note\n"
GOOD = b"A-%d,SKU-%d,%d,ok\n"


def lines_file(n: int, bad_every: int = 0, start: int = 0) -> bytes:
    """`n` rows; every `bad_every`-th one (1-based) has a cell too few."""
    rows = []
    for i in range(start, start + n):
        if bad_every and (i + 1) % bad_every == 0:
            rows.append(b"B-%d,SKU,1\n" % i)
        else:
            rows.append(GOOD % (i, i % 7, i % 5))
    return HEADER + b"".join(rows)


def test_clean_file_is_read_by_pyarrow_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast path really is taken: the row reader is never asked (it would raise)."""

    def refuse(*_: Any) -> Any:
        raise AssertionError("row reader used on a clean file")

    monkeypatch.setattr(csvarrow._BlockReader, "_slow", refuse)
    monkeypatch.setattr(csvarrow, "BLOCK_BYTES", 4096)
    data = lines_file(5_000) + b'X,"quoted, with comma",1,"two\r\nlines"\r\n\n'
    got, error, chunks = chunked("csv", data, {}, 1_000)
    assert error is None and len(got) == 5_001 and len(chunks) == 6
    assert got[-1][1] == {
        "order": "X",
        "sku": "quoted, with comma",
        "qty": "1",
        "note": "two\r\nlines",
    }
    assert chunks[0].table is not None and chunks[0].table.column_names == [
        "order",
        "sku",
        "qty",
        "note",
    ]


@pytest.mark.parametrize("block", [csvarrow.BLOCK_BYTES, 2_000, 100])
@pytest.mark.parametrize("bad_every", [1, 2, 999, 1000, 1001])
def test_bad_rows_inside_and_across_chunks(
    bad_every: int, block: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows with the wrong cell count, mid-chunk and on chunk edges, keep their positions."""
    monkeypatch.setattr(csvarrow, "BLOCK_BYTES", block)
    data = lines_file(3_001, bad_every)
    assert_same("csv", data, {}, (1_000, 999, 3_001, 50_000))
    _, _, chunks = chunked("csv", data, {}, 1_000)
    bad = [(p, b) for c in chunks for p, b in c.bad]
    assert len(bad) == 3_001 // bad_every
    assert all(b.line == p + 2 and b.index == p for p, b in bad)
    assert bad[0][1].reason == "row has 3 cells, header has 4"


def test_a_file_of_only_bad_rows() -> None:
    data = HEADER + b"1,2\n3\n4,5,6,7,8\n" * 400
    _, error, chunks = chunked("csv", data, {}, 500)
    assert error is None and len(chunks) == 3
    assert all(c.table is not None and c.table.num_rows == 0 and not c.positions for c in chunks)
    assert [c.items for c in chunks] == [500, 500, 200]
    assert_same("csv", data, {}, (1, 500))


@pytest.mark.parametrize("data", [b"", b"\n\n", b"\xef\xbb\xbf", b"a,b\n", b"a,b\n\n\r\n"])
def test_empty_files_have_no_chunks(data: bytes) -> None:
    got, error, chunks = chunked("csv", data, {}, 10)
    assert (got, error, chunks) == ([], None, [])


def test_an_invalid_byte_fails_the_file_at_its_line_after_the_rows_before(block: int) -> None:
    """The rows before the bad line come as a last chunk; the error names the line."""
    data = lines_file(2_500) + b"A,\xe9t\xe9,1,x\n" + lines_file(10)[len(HEADER) :]
    got, error, chunks = chunked("csv", data, {}, 1_000)
    assert error == "f:2502: not utf-8: invalid continuation byte at byte 3 of the line"
    assert len(got) == 2_500 and [c.items for c in chunks] == [1_000, 1_000, 500]
    assert_same("csv", data, {}, (1_000, 7))


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252", "utf-16", "utf-8"])
def test_other_encodings_read_the_same(encoding: str, block: int) -> None:
    text = "id,name\n" + "".join(f'{i},"Zoë ;{i}"\n' for i in range(300)) + "x,Ærø\n"
    assert_same("csv", text.encode(encoding), {"encoding": encoding}, (1, 64))
    got, error, chunks = chunked("csv", text.encode(encoding), {"encoding": encoding}, 1_000)
    assert error is None and got[-1][1] == {"id": "x", "name": "Ærø"}
    assert chunks[0].table is not None


def test_a_repeated_header_name_gives_python_records() -> None:
    data = b"a,b,a\n1,2,3\n4,,6\n"
    _, _, chunks = chunked("csv", data, {}, 10)
    assert chunks[0].table is None and chunks[0].records == [
        {"a": "3", "b": "2"},
        {"a": "6", "b": None},
    ]
    assert_same("csv", data, {}, (1, 10))


def test_options_delimiter_quote_and_field_limit(block: int) -> None:
    data = b"a;b\n1;'x;y'\n2;'it''s'\n3;" + b"z" * 300 + b"\n4;5\n"
    for options in (
        {"delimiter": ";", "quotechar": "'"},
        {"delimiter": ";", "quotechar": "'", "max_field_bytes": 100},
    ):
        assert_same("csv", data, options, (1, 2, 10))
    _, error, _ = chunked(
        "csv", data, {"delimiter": ";", "quotechar": "'", "max_field_bytes": 100}, 2
    )
    assert error == "f:4: a field is larger than max_field_bytes (100)"


def test_memory_is_a_chunk_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """After the first chunk only about a block of the file has been read."""
    monkeypatch.setattr(csvarrow, "BLOCK_BYTES", 64 << 10)
    stream = io.BytesIO(lines_file(200_000))
    chunks = iter_chunks(get_format("csv"), stream, {}, "f", 1_000)
    first = next(chunks)
    assert first.items == 1_000
    assert stream.tell() < 200 << 10 < len(stream.getvalue()) // 10


CELLS = [
    b"", b"a", b"x y", b"\xc3\xa9t\xc3\xa9", b'"q,uo""te"', b'"multi\nline"', b'"crlf\r\nin"',
    b'""', b'12" pipe', b'"bad"x', b"nul\x00", b'"open', b"lone\rcr", b"\xef\xbb\xbfbom", b" ",
    b'"a""""b"', b'""""', b'x"', b"\xff",
]  # fmt: skip


def _fuzz_file(rng: random.Random, ncols: int, rows: int, weights: list[float]) -> bytes:
    out = [b",".join(b"h%d" % i for i in range(ncols)) + b"\n"]
    for _ in range(rows):
        roll = rng.random()
        if roll < 0.03:
            out.append(rng.choice([b"\n", b"\r\n"]))
            continue
        width = ncols if roll < 0.9 else rng.choice([ncols - 1, ncols + 1, 1])
        cells = rng.choices(CELLS, weights, k=max(width, 1))
        out.append(b",".join(cells) + rng.choice([b"\n", b"\n", b"\r\n"]))
    data = b"".join(out)
    return data[:-1] if rng.random() < 0.2 else data


@pytest.mark.parametrize("seed", range(40))
def test_generated_files_read_the_same(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Random rows mixing every tricky cell; mostly clean ones, so blocks go both ways."""
    rng = random.Random(seed)
    monkeypatch.setattr(csvarrow, "BLOCK_BYTES", rng.choice([16, 100, 1000, 5000]))
    rare = 0.002 if seed % 2 else 0.02  # odd seeds: mostly clean files with rare trouble
    weights = [1.0, 5.0, 2.0, 1.0, 1.0, 0.5, 0.5, 0.5] + [rare] * (len(CELLS) - 8)
    data = _fuzz_file(rng, rng.choice([1, 2, 4]), rng.choice([50, 400, 2000]), weights)
    assert_same("csv", data, {}, (1, 7, 300))


def test_formats_without_a_columnar_reader_give_python_records() -> None:
    """NDJSON (and JSON, XML) stay Python: pyarrow.json would retype values (ISO times to
    timestamps, absent keys to nulls) and fail a whole block on one bad line."""
    data = b'{"a": 1.5, "t": "2024-01-01T00:00:00+02:00"}\nNaN\n{"b": [1]}\n'
    _, error, chunks = chunked("ndjson", data, {}, 2)
    assert error is None and [c.table for c in chunks] == [None, None]
    assert chunks[0].records == [{"a": 1.5, "t": "2024-01-01T00:00:00+02:00"}]
    assert chunks[0].bad[0][0] == 1 and chunks[1].positions == [2]
    assert chunks[1].raw(0) == {"b": [1]}


def test_a_format_with_only_read_is_chunked_from_its_list() -> None:
    class OnlyRead:
        kind = "only_read"

        def read(self, content: bytes, options: dict[str, Any], name: str = "") -> list[Any]:
            return [{"n": i} for i in range(len(content))]

    chunks = list(iter_chunks(OnlyRead(), io.BytesIO(b"abcde"), {}, "f", 2))
    assert [(c.start, c.positions, c.records) for c in chunks] == [
        (0, [0, 1], [{"n": 0}, {"n": 1}]),
        (2, [2, 3], [{"n": 2}, {"n": 3}]),
        (4, [4], [{"n": 4}]),
    ]
    with pytest.raises(ValueError, match="at least 1"):
        next(iter_chunks(OnlyRead(), io.BytesIO(b"a"), {}, "f", 0))


@pytest.mark.parametrize(
    "data",
    [
        b"a,,b\n1,2,3\n",  # an empty header name
        b" a , b\n1,2\n",  # spaces are kept
        b'a\n""\n\n1\n',  # a quoted empty cell is a row (None), a blank line is not
        b'a,b\n"",""\n',
        b'a,b\n"x\n\ny",1\n',  # a blank line inside a quoted value
        b"\xef\xbb\xbfa,b\n\xef\xbb\xbf1,2\n3,4\n",  # a BOM only counts at the start
        b"a,b\r\n1,2\r\n",
        b'a,b\n1,"2\r3"\n',  # a lone CR inside quotes
    ],
)
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig"])
def test_edge_cases_read_the_same(data: bytes, encoding: str) -> None:
    assert_same("csv", data, {"encoding": encoding}, (1, 5))


def test_quotes_inside_unquoted_fields_are_text(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inch marks (`12" pipe`) are text to the csv module; pyarrow reads them with quoting
    off, so such a file stays fast. Mixed with quoted fields, the row reader decides."""
    rows = b"".join(b'P-%d,%d" pipe,%d,ab""c"\n' % (i, i % 30, i) for i in range(3_000))
    data = HEADER + rows
    assert_same("csv", data, {}, (1_000,))
    monkeypatch.setattr(csvarrow, "BLOCK_BYTES", 8_000)

    def refuse(*_: Any) -> Any:
        raise AssertionError("row reader used")

    with monkeypatch.context() as patched:
        patched.setattr(csvarrow._BlockReader, "_slow", refuse)
        got, error, _ = chunked("csv", data, {}, 1_000)
    assert error is None and got[7][1] == {
        "order": "P-7",
        "sku": '7" pipe',
        "qty": "7",
        "note": 'ab""c"',
    }
    mixed = data + b'Q,"a, b",1,x" y\n' + rows
    assert_same("csv", mixed, {}, (1_000, 50_000))


@pytest.mark.parametrize("allow", [False, True])
def test_a_last_row_without_line_end(allow: bool, block: int) -> None:
    data = lines_file(300)[:-1]
    options = {"allow_unterminated_last_row": allow}
    assert_same("csv", data, options, (1, 100, 50_000))
    got, _, _ = chunked("csv", data, options, 100)
    assert isinstance(got[-1][1], dict) is allow
