"""`omshub mapping test`: a mapping run on its sample against its reviewed golden file,
and its inline `tests:` cases. See docs/mapping-language.md, "Testing a mapping".

- `output`: records -> canonical rows and rejections as text (what a golden file holds);
- `locate`: the sample and golden of a mapping (its keys, else the folder convention);
- `compare`: field-level differences keyed by entity and external id;
- `cases`: the `tests:` cases; `runner`: one mapping's verdict; `render`: the terminal;
- `watch`: re-run on every save.
"""

from __future__ import annotations

from omshub.mappingtest.output import (
    EXT_FORMATS,
    canonical_output,
    dumps,
    format_for,
    map_sample,
    read_sample,
    run,
    source_of,
)

__all__ = [
    "EXT_FORMATS",
    "canonical_output",
    "dumps",
    "format_for",
    "map_sample",
    "read_sample",
    "run",
    "source_of",
]
