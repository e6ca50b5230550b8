"""The load bench's result: the flat headline keys issue 10 names, and a readable table."""

from __future__ import annotations

import os
from typing import Any

#: (label, phase key, staged-upsert pass it compares with)
PHASES = (
    ("first load", "first", "new"),
    ("no-change re-run", "nochange", "unchanged"),
    ("10%-changed re-run", "changed10", "changed10"),
)


def _rate(d: dict[str, Any] | None) -> int | None:
    value = (d or {}).get("rows_per_s")
    return int(value) if isinstance(value, int | float) else None


def _ratio(a: int | None, b: int | None) -> float | None:
    return round(a / b, 3) if a and b else None


def _change_ceiling(r: dict[str, Any]) -> dict[str, Any]:
    """What the 10%-changed run could reach: the no-change run's time plus the change floor.

    The no-change run does all a re-run does but write (read, map, validate, compare with
    the store); the change floor (bench/floor.py) is the least the 10%-changed run's writes
    cost this schema. Their sum bounds this engine's 10%-changed run from below.
    """
    floor = (r.get("change_floor") or {}).get("seconds")
    if floor is None:
        return {}
    ceiling = round(r["rows"] / (r["nochange"]["seconds"] + floor))
    return {
        "changed10_write_floor_s": floor,
        "changed10_ceiling_rows_per_s": ceiling,
        "changed10_vs_ceiling": _ratio(_rate(r.get("changed10")), ceiling),
    }


def summarise(r: dict[str, Any]) -> dict[str, Any]:
    """``r`` with the headline keys first (rows/s, rows written, baselines, peak RSS)."""
    base = r.get("baselines", {})
    upsert, dlt = base.get("upsert", {}), base.get("dlt", {})
    head: dict[str, Any] = {"db": r["db"], "rows": r["rows"]}
    for _, phase, _ in PHASES:
        head[f"{phase}_rows_per_s"] = _rate(r.get(phase))
    for _, phase, _ in PHASES:
        head[f"{phase}_rows_per_cpu_s"] = (r.get(phase) or {}).get("rows_per_cpu_s")
    head["rows_written_nochange"] = r["nochange"]["rows_written"]
    head["rows_written_changed10"] = r["changed10"]["rows_written"]
    head["copy_rows_per_s"] = _rate(base.get("copy"))
    head["staged_upsert_rows_per_s"] = _rate(upsert.get("new"))
    head["staged_upsert_nochange_rows_per_s"] = _rate(upsert.get("unchanged"))
    head["staged_upsert_changed10_rows_per_s"] = _rate(upsert.get("changed10"))
    head["dlt_arrow_rows_per_s"] = _rate(dlt)
    if "error" in dlt:
        head["dlt_error"] = dlt["error"]
    head["first_vs_staged_upsert"] = _ratio(
        head["first_rows_per_s"], head["staged_upsert_rows_per_s"]
    )
    head["first_vs_dlt"] = _ratio(head["first_rows_per_s"], head["dlt_arrow_rows_per_s"])
    head["store_floor_rows_per_s"] = _rate(r.get("floor"))
    head["first_vs_store_floor"] = _ratio(head["first_rows_per_s"], head["store_floor_rows_per_s"])
    head["store_floor_vs_staged_upsert"] = _ratio(
        head["store_floor_rows_per_s"], head["staged_upsert_rows_per_s"]
    )
    head.update(_change_ceiling(r))
    head["peak_rss_mb"] = r["peak_rss_mb"]
    versions = dict(r.get("versions", {}))
    if dlt.get("dlt_version"):
        versions["dlt"] = dlt["dlt_version"]
    return {
        **head,
        "versions": versions,
        **{k: v for k, v in r.items() if k not in head and k != "versions"},
    }


def _fmt(v: float | None, spec: str = ",.0f") -> str:
    return "-" if v is None else format(v, spec)


def table(r: dict[str, Any]) -> str:
    """Rows/s of each run and baseline, and each run's ratio to staged upsert and dlt."""
    base = r["baselines"]
    upsert = base.get("upsert", {})
    dlt_rate = r["dlt_arrow_rows_per_s"]
    store = r.get("store_rows", {})
    lines = [
        f"== omshub load bench: {r['rows']:,} order lines, {r['db']} "
        f"(store after first load: {', '.join(f'{k} {v:,}' for k, v in store.items())}) ==",
        f"{'run':<34}{'seconds':>9}{'rows/s':>10}{'vs staged upsert':>18}{'vs dlt':>8}"
        f"{'rows written':>14}{'CPU s':>8}{'PG CPU s':>10}",
    ]
    for label, phase, upass in PHASES:
        p = r[phase]
        up = _rate(upsert.get(upass))
        lines.append(
            f"{'omshub ' + label:<34}{p['seconds']:>9.2f}{p['rows_per_s']:>10,}"
            f"{_fmt(_ratio(p['rows_per_s'], up), '.2f') + 'x':>18}"
            f"{_fmt(_ratio(p['rows_per_s'], dlt_rate), '.2f') + 'x':>8}{p['rows_written']:>14,}"
            f"{_fmt(p.get('cpu_seconds'), '.1f'):>8}{_fmt(p.get('server_cpu_seconds'), '.1f'):>10}"
        )
    lines.append("same-run baselines (CSV parse not timed):")
    rows: list[tuple[str, dict[str, Any] | None]] = [
        (f"bare {base.get('copy', {}).get('path', 'copy')}, no key", base.get("copy"))
    ]
    for _, _, upass in PHASES:
        rows.append((f"staged upsert, {upass}", upsert.get(upass)))
    rows.append(("dlt Arrow merge (first load)", base.get("dlt")))
    rows.append(("store floor (first load's rows)", r.get("floor")))
    if r.get("changed10_write_floor_s") is not None:
        ceiling = {"seconds": r["changed10_write_floor_s"], "rows_per_s": None}
        rows.append(("change floor (10%-changed writes)", ceiling))
    for label, d in rows:
        rate = _rate(d)
        sec = (d or {}).get("seconds")
        lines.append(f"  {label:<32}{_fmt(sec, '.2f'):>9}{_fmt(rate):>10}")
    if r.get("changed10_ceiling_rows_per_s"):
        lines.append(
            f"10%-changed ceiling (no-change run + change floor): "
            f"{r['changed10_ceiling_rows_per_s']:,} lines/s; the run reached "
            f"{_fmt(r.get('changed10_vs_ceiling'), '.2f')} of it"
        )
    if r.get("dlt_error"):
        lines.append(f"  dlt: {r['dlt_error']}")
    lines.append(
        f"peak RSS of the pipeline runs: {r['peak_rss_mb']:,.0f} MB; CPU s = this process's "
        "user + system time, PG CPU s = the server backends' on the store database"
    )
    if "loadavg_before" in r:
        lines.append(
            f"load average (1/5/15 min) before / after the runs: {r['loadavg_before']} / "
            f"{r.get('loadavg_after')} on {os.cpu_count()} CPUs (other work skews the rates)"
        )
    lines.append("versions: " + ", ".join(f"{k} {v}" for k, v in r["versions"].items()))
    return "\n".join(lines)
