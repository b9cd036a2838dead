"""gunicorn settings for production (docker compose) and the load test (bench/load.py).

With PROMETHEUS_MULTIPROC_DIR set, each worker process writes its metrics there and /metriques adds them up;
the folder is emptied at start and a dead worker's gauges are dropped."""

import os
import shutil

from prometheus_client import multiprocess


def on_starting(server):
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
