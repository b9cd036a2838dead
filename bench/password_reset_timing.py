"""Time « Mot de passe oublié ? » for a known and an unknown address: the two must not be told apart.

    DATABASE_URL=postgres://… REDIS_URL=redis://… .venv/bin/python bench/password_reset_timing.py

It creates a throwaway database (`test_<name>`) with RUNS activated accounts, then posts the form RUNS times
for known addresses and RUNS times for unknown ones, interleaved, each from its own IP (so no rate limit
answers), through Django's test client with the production-like path: the rate-limit counters in Redis and
the task published to the Redis broker (no worker runs: the queued tasks are purged at the end). It prints
the median and 95th percentile of each, and drops the database.
"""

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chorus.settings.test")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

from chorus.celery import app as celery_app  # noqa: E402

RUNS = 200


def main():
    if connection.vendor != "postgresql" or not os.environ.get("REDIS_URL"):
        sys.exit("Set DATABASE_URL to PostgreSQL and REDIS_URL: the benchmark measures the production path.")
    setup_test_environment()
    celery_app.conf.task_always_eager = False  # publish to the broker, as in production
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from accounts.models import User

        User.objects.bulk_create(
            User(
                email=f"exploitant{n}@example.fr",
                first_name="Anne",
                last_name="Martin",
                activated_at=timezone.now(),
            )
            for n in range(RUNS + 1)
        )
        client = Client()
        client.post("/compte/mot-de-passe-oublie/", {"email": f"exploitant{RUNS}@example.fr"})  # warm up
        timings = {"known": [], "unknown": []}
        for n in range(RUNS):
            for kind, email in (
                ("known", f"exploitant{n}@example.fr"),
                ("unknown", f"personne{n}@example.fr"),
            ):
                started = time.perf_counter()
                response = client.post(
                    "/compte/mot-de-passe-oublie/",
                    {"email": email},
                    REMOTE_ADDR=f"10.{n // 250}.{n % 250}.{len(kind)}",
                )
                timings[kind].append((time.perf_counter() - started) * 1000)
                assert response.status_code == 302, response.status_code
        for kind, values in timings.items():
            values.sort()
            print(
                f"{kind:<8} address: median {statistics.median(values):6.2f} ms   "
                f"p95 {values[int(len(values) * 0.95) - 1]:6.2f} ms   ({RUNS} requests)"
            )
    finally:
        celery_app.control.purge()
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
