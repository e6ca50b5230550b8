"""Every public X12 sample through the real EDI inbox: what happened to each file.

Each file gets its own throwaway project and SQLite store: a partner per ISA sender and
receiver found in it (so the inbox knows who sent it), every transaction set kind agreed,
those with a shipped mapping routed to it, and a claiming folder source whose inbox holds
the file alone. `omshub.pipeline.run_source` then does what production does. The outcome
says whether the file was archived or moved to error/ (with its reason), which sets
loaded, which were refused and why, and which 997s/TA1s were written.

    .venv/bin/python tests/shared/x12_inbox_outcomes.py      # a markdown table

Used by tests/shared/test_x12_inbox_samples.py.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT.parent / "shared" / "samples" / "x12"


@dataclass
class Outcome:
    file: str
    status: str  # the landed batch's: loaded | failed | dead
    ended_in: str  # archive | error
    message: str = ""
    loaded: dict[str, int] = field(default_factory=dict)  # entity -> rows
    refused: list[str] = field(default_factory=list)  # one reason per refused set
    acks: list[str] = field(default_factory=list)  # "997 AK9 A 2/2" / "TA1 R 001"
    error_kind: str | None = None


def _mapped_sets() -> dict[str, str]:
    """Set id -> the shipped mapping that reads it (from each mapping's `format.sets`)."""
    from transforms.yamlsrc import safe_load

    out: dict[str, str] = {}
    for path in sorted((ROOT / "mappings/edi").glob("*.yaml")):
        fmt = (safe_load(path.read_text(encoding="utf-8")) or {}).get("format") or {}
        for set_id in fmt.get("sets") or ():
            out.setdefault(str(set_id), f"edi/{path.name}")
    return out


def _partners(sample: Path) -> dict[str, str]:
    """A partner YAML per (sender, receiver) of the file's interchanges."""
    from connectors.x12 import read_document
    from omshub.edi.partnerconfig import FUNCTIONAL_IDS

    mapped = _mapped_sets()
    sets = {s: mapped.get(s) for s in FUNCTIONAL_IDS if s not in ("997", "999")}
    pairs: dict[tuple[str, str, str, str], tuple[str, str]] = {}
    for node in read_document(sample).interchanges:
        ix = node.interchange
        key = (ix.sender_qualifier, ix.sender_id, ix.receiver_qualifier, ix.receiver_id)
        gs = node.groups[0].group if node.groups else None
        codes = (gs.sender.strip() if gs else "", gs.receiver.strip() if gs else "")
        pairs.setdefault(key, codes)
    out = {}
    for n, ((sq, sid, rq, rid), (gs02, gs03)) in enumerate(pairs.items(), 1):
        doc = {
            "id": f"p{n}",
            "name": f"sample sender {sid}",
            "usage": "P",
            "us": {"qualifier": rq, "id": rid, "application_code": gs03 or "RECEIVER"},
            "them": {"qualifier": sq, "id": sid, "application_code": gs02 or "SENDER"},
            "outbound": {"isa_version": "00401", "gs_version": "004010"},
            "inbound": {"sets": sets},
            "ack": {"ta1": "on_request"},
            "transport": {
                "type": "local_folder",
                "inbox": "drop",
                "outbox": f"out/p{n}",
                "archive": "archive",
                "error": "error",
            },
        }
        out[f"p{n}"] = json.dumps(doc)  # JSON is YAML
    return out


def _project(home: Path, sample: Path) -> None:
    for sub in ("config/sources", "config/partners", "drop"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "config/ownership.yaml", home / "config")
    shutil.copytree(ROOT / "config/codes", home / "config/codes")
    shutil.copytree(ROOT / "mappings", home / "mappings")
    for pid, text in _partners(sample).items():
        (home / "config/partners" / f"{pid}.yaml").write_text(text, encoding="utf-8")
    from omshub.edi.partnerconfig import FUNCTIONAL_IDS

    mapped = _mapped_sets()
    routes = {s: mapped.get(s) for s in FUNCTIONAL_IDS if s not in ("997", "999")}
    stream = {"name": "inbox", "pattern": "*", "format": {"type": "x12"}, "mapping": None}
    source = {
        "name": "samples",
        "system": "samples",
        "kind": "edi",
        "connector": {"type": "local_folder", "path": "drop", "claim": True},
        "retries": 0,
        "reject_threshold": 1.0,
        "streams": [stream | {"routes": routes}],
    }
    (home / "config/sources/samples.yaml").write_text(json.dumps(source), encoding="utf-8")
    shutil.copy(sample, home / "drop" / sample.name)


def _acks(home: Path) -> list[str]:
    """What each 997 (AK9: status, accepted/received) and TA1 (status, note) we wrote says."""
    from connectors.x12 import iter_segments

    out = []
    for path in sorted(home.glob(".landing/outbox/*/*.x12")):
        if path.name.startswith("TA1_"):  # a TA1 sits between ISA and IEA, in no set
            text = path.read_text(encoding="latin-1")
            sep, term = text[3], text[105]
            ta1 = next(s for s in text.split(term) if s.strip().startswith("TA1" + sep))
            elements = ta1.strip().split(sep)
            out.append(f"TA1 {elements[4]} {elements[5]}")
            continue
        for seg in iter_segments(path):
            if seg.tag in ("AK9", "IK9"):
                out.append(f"997 {seg.element(1)} {seg.element(4)}/{seg.element(2)}")
    return out


def run_one(sample: Path, tmp: Path) -> Outcome:
    """The inbox on one sample file, in a project and store of its own."""
    from sqlalchemy import select

    from oms.bookkeeping import LandedBatch, Quarantine
    from oms.db import get_engine, upgrade
    from oms.models import table
    from omshub.pipeline import run_source

    home = tmp / sample.name.replace(".", "_")
    _project(home, sample)
    url = f"sqlite:///{home / 'store.db'}"
    os.environ.update(
        OMSHUB_HOME=str(home), OMSHUB_DATABASE_URL=url, OMSHUB_LANDING_DIR=str(home / ".landing")
    )
    upgrade(url)
    engine = get_engine(url)
    report = run_source("samples", engine=engine)
    with engine.connect() as conn:
        batch = conn.execute(select(table(LandedBatch))).mappings().one()
        reasons = conn.execute(select(table(Quarantine).c.reasons)).scalars().all()
    engine.dispose()
    archived = any((home / "drop" / "archive").rglob(sample.name))
    out = Outcome(
        sample.name,
        str(batch["status"]),
        "archive" if archived else "error",
        str(batch["message"] or ""),
        error_kind=batch["error_kind"],
    )
    for entity, counts in (report.summary.entities if report.summary else {}).items():
        if counts.get("loaded"):
            out.loaded[entity] = int(counts["loaded"])
    out.refused = [json.loads(r)[0]["message"] for r in reasons]
    out.acks = _acks(home)
    return out


def table_md(outcomes: list[Outcome]) -> str:
    lines = ["| file | batch | file ended in | loaded | refused sets | acks written |"]
    lines.append("| --- | --- | --- | --- | --- | --- |")
    for o in outcomes:
        loaded = ", ".join(f"{e} {n}" for e, n in o.loaded.items()) or "-"
        refused = "; ".join(o.refused) or (o.message if o.status != "loaded" else "-")
        lines.append(
            f"| {o.file} | {o.status} | {o.ended_in} | {loaded} | {refused[:160]} | "
            f"{', '.join(o.acks) or '-'} |"
        )
    return "\n".join(lines)


def main() -> None:
    import tempfile

    sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
    with tempfile.TemporaryDirectory(prefix="omshub-x12-inbox-") as tmp:
        files = [p for p in sorted(SAMPLES.iterdir()) if p.name != "SOURCES.md"]
        outcomes = [run_one(p, Path(tmp)) for p in files]
    print(table_md(outcomes))


if __name__ == "__main__":
    main()
