"""gunicorn settings of bench/firm.py: each worker lives on the benchmark's date, so the same campaigns are
open as in the in-process measures."""

import os
from datetime import datetime
from zoneinfo import ZoneInfo

bind = os.environ.get("BENCH_BIND", "127.0.0.1:8765")
workers = int(os.environ.get("BENCH_WORKERS", "4"))
accesslog = None
errorlog = "-"
loglevel = "warning"


def post_fork(server, worker):
    import time_machine

    time_machine.travel(datetime(2025, 6, 2, 10, 0, tzinfo=ZoneInfo("Europe/Paris")), tick=True).start()
