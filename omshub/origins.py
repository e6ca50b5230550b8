"""Hand a finished batch back to the transport it came from (archive it, or move it to error).

Only batches whose `RawBatch.metadata` says `claim: true` are handed back: the transport
took the file away from its inbox and waits for the outcome. A drop-folder transport
(SFTP, a claiming local folder) leaves the file it claimed in
`processing/` until the batch is done: `loaded` (then `finish(ref, ok=True)` archives it)
or failed for good, `dead` or `discarded` (then `finish(ref, ok=False, reason)` moves it
to `error/` with the reason beside it). A failed batch that later runs still retry stays
where it is: the landing zone holds its bytes, so retries never need the remote file.

The hook runs after the batch's transaction committed, so its failure (a network error)
never undoes a load: the batch keeps `origin_done` empty and the next run of the source
settles it (`settle_pending`). `origin_done` makes the hook run once per batch.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy import Engine, select, update

from oms.models import LandedBatch, table

log = logging.getLogger("omshub.pipeline")
_lb = table(LandedBatch)
#: batch states that are done for the transport: loaded, or failed for good
DONE = ("loaded", "dead", "discarded")


def settle(engine: Engine, batch_id: str, transport: Any = None) -> str | None:
    """Call the transport's `finish` for a done batch; `archived`/`error`, or None when
    there is nothing to do (no origin, not done yet, already settled, no hook) or it failed.
    """
    with engine.connect() as conn:
        row = conn.execute(select(_lb).where(_lb.c.batch_id == batch_id)).mappings().first()
    if row is None or not row["origin"] or row["origin_done"] or row["status"] not in DONE:
        return None
    ref = json.loads(row["origin"])
    if not ref.get("claim"):
        return None
    try:
        transport = transport or _transport(row["source"])
        finish = getattr(transport, "finish", None)
        if finish is None:
            return None
        ok = row["status"] == "loaded"
        reason = None if ok else _reason(row)
        finish(ref, ok, reason)
    except Exception as e:  # never undo a load for a file that could not be moved
        log.warning(
            "%s: batch %s is %s but its source file could not be %s (%s); the next run tries again",
            row["source"],
            batch_id,
            row["status"],
            "archived" if row["status"] == "loaded" else "moved to error/",
            e if isinstance(e, OSError | ValueError) else f"{type(e).__name__}: {e}",
        )
        return None
    done = "archived" if ok else "error"
    with engine.begin() as conn:
        conn.execute(update(_lb).where(_lb.c.batch_id == batch_id).values(origin_done=done))
    return done


def _reason(row: Any) -> str:
    if row["status"] == "discarded":
        return f"discarded by {row['discarded_by']}: {row['discarded_reason']}"
    return str(row["message"] or f"batch {row['batch_id']} is {row['status']}")


def _transport(source: str) -> Any:
    from omshub.config import get_source
    from omshub.extract import open_transport

    return open_transport(get_source(source))


def settle_pending(engine: Engine, source: str, transport: Any = None) -> int:
    """Settle every done batch of `source` whose transport hook has not run yet."""
    with engine.connect() as conn:
        ids = conn.execute(
            select(_lb.c.batch_id)
            .where(
                _lb.c.source == source,
                _lb.c.origin.is_not(None),
                _lb.c.origin_done.is_(None),
                _lb.c.status.in_(DONE),
            )
            .order_by(_lb.c.landed_at, _lb.c.batch_id)
        ).scalars()
        pending = list(ids)
    # (the `claim` flag is inside the JSON: settle() checks it per batch)
    if not pending:
        return 0
    transport = transport or _transport(source)
    if getattr(transport, "finish", None) is None:
        return 0
    return sum(settle(engine, bid, transport) is not None for bid in pending)
