"""`python -m omshub.refdocs [--check]`: write docs/reference, or exit 1 when stale."""

from __future__ import annotations

import sys

from omshub.refdocs import DOCS, REGENERATE, stale, write


def main(argv: list[str]) -> int:
    if "--check" in argv:
        bad = stale()
        if bad:
            print(f"stale in {DOCS}: {', '.join(bad)}; run `{REGENERATE}`", file=sys.stderr)
            return 1
        print(f"{DOCS} is up to date")
        return 0
    for path in write():
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
