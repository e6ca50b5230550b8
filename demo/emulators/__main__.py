"""Serve a demo emulator until interrupted: `python -m demo.emulators salesforce|shopify`.

The secret (the Salesforce client secret, or the Shopify access token) is read from the
environment variable OMSHUB_DEMO_SECRET, never from the command line; the first line
printed is the base URL (127.0.0.1 and a free port), for AIRFLOW_CONN_<ID>.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

from demo.emulators import start_salesforce_demo, start_shopify_demo


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo.emulators")
    parser.add_argument("system", choices=("salesforce", "shopify"))
    parser.add_argument("--home", default=".", help="the project (with demo/systems)")
    args = parser.parse_args(argv)
    secret = os.environ.get("OMSHUB_DEMO_SECRET")
    if not secret:
        print("error: set OMSHUB_DEMO_SECRET (the emulator's client secret or token)")
        return 2
    start = start_salesforce_demo if args.system == "salesforce" else start_shopify_demo
    base_url, stop = start(Path(args.home), secret)
    print(base_url, flush=True)
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    done.wait()
    stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
