"""Speed of columnar mapping and validation on bench/mappings/order_lines.yaml (not a test).

    .venv/bin/python bench/datagen.py --lines 1000000 --out /tmp/lines.csv
    .venv/bin/python tests/transforms/speed_columnar.py /tmp/lines.csv [--repeat 3]

Reads the CSV as all-string columns (as the columnar CSV reader gives them), then times
`apply_table` and `validate` of every mapped table: best of `--repeat` runs, wall and
CPU seconds (the machine is shared: CPU seconds are the steadier figure). GX's import and
context are timed apart (paid once per process); validation is timed cold (GX judges
every distinct value) and warm (verdicts kept from the previous run).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from omshub.mappings import get_mapping  # noqa: E402
from transforms import judged  # noqa: E402
from transforms.validation import validate  # noqa: E402


def _best(fn: object, repeat: int) -> tuple[float, float]:
    walls, cpus = [], []
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        fn()  # type: ignore[operator]
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return min(walls), min(cpus)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("csv", type=Path)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    m = get_mapping(str(ROOT / "bench" / "mappings" / "order_lines.yaml"))
    names = args.csv.open().readline().strip().split(",")
    opts = pacsv.ConvertOptions(column_types={c: pa.string() for c in names})
    tbl = pacsv.read_csv(args.csv, convert_options=opts)
    n = tbl.num_rows
    print(f"{n:,} lines; columnar={m.columnar} {m.columnar_reason}")
    mb = m.apply_table(tbl)
    wall, cpu = _best(lambda: m.apply_table(tbl), args.repeat)
    print(f"apply_table: {wall:.2f} s wall ({n / wall:,.0f} lines/s), {cpu:.2f} s CPU")
    started = time.perf_counter()
    validate("sales_order", mb.tables["sales_order"].slice(0, 1))
    print(f"GX import + context: {time.perf_counter() - started:.2f} s (once per process)")
    rules = m.rules()

    def check_all(cold: bool = True) -> None:
        if cold:  # GX judges every distinct value again (a new process's first chunk)
            judged._MEMO.clear()
        for e, t in mb.tables.items():
            validate(e, t, rules.get(e), "")

    vwall, vcpu = _best(check_all, args.repeat)
    print(f"validate: {vwall:.2f} s wall ({n / vwall:,.0f} lines/s), {vcpu:.2f} s CPU")
    wwall, wcpu = _best(lambda: check_all(cold=False), args.repeat)
    print(f"validate, values already judged: {wwall:.2f} s wall, {wcpu:.2f} s CPU")
    both = wall + vwall
    print(f"map + validate: {n / both:,.0f} lines/s wall, {n / (cpu + vcpu):,.0f} lines/s CPU")


if __name__ == "__main__":
    main()
