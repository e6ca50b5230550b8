"""`[core] hostname_callable` for the test cluster's workers.

Both Celery workers run on this one machine, so the default (the FQDN) would record the
same hostname on every task instance. In production each worker is its own host; here
each worker process gets `OMSHUB_CLUSTER_WORKER` and reports it, so `task_instance.hostname`
says which worker ran a try.
"""

from __future__ import annotations

import os
import socket


def hostname() -> str:
    return os.environ.get("OMSHUB_CLUSTER_WORKER") or socket.getfqdn()
