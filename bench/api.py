"""Times `GET /api/v1/refund-requests` for one token holding 1,000 requests: p50 / p95 of the first page
(50, the default), of a page of 200, and of walking every page through the cursor. Runs in a throwaway test
database (created and dropped here), against DATABASE_URL's server, through Django's test client (the whole
middleware stack, token check and per-token rate limit included; the rate is lifted so the runs fit).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/chorus REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/api.py
"""

import logging
import os
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chorus.settings.test")

import django

django.setup()

import time_machine  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

REQUESTS = 1000
RUNS = 200
WALKS = 20
URL = "/api/v1/refund-requests"


def percentiles(durations: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(durations, n=20)  # 5 % steps: cuts[9] is p50, cuts[18] is p95
    return cuts[9], cuts[18]


def timed(function, runs: int) -> tuple[float, float]:
    function()  # warm-up: first-call imports and plans are not what a client waits for
    durations = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        durations.append((time.perf_counter() - start) * 1000)
    return percentiles(durations)


def main():
    import api.auth
    from accounts.api_tokens import api_token_create
    from accounts.models import ApiToken, User
    from tests.api.conftest import bulk_requests

    api.auth.CALLS_PER_MINUTE = "1000000/m"
    user = User.objects.create_user(email="bench-api@example.fr")
    bulk_requests(user, REQUESTS)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    _, secret = api_token_create(
        user=user,
        name="Bench",
        scope=ApiToken.Scope.READ,
        expires_on=datetime.now(ZoneInfo("Europe/Paris")).date() + timedelta(days=30),
    )
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")

    def page(size=None):
        response = client.get(URL, {"page_size": size} if size else {})
        assert response.status_code == 200, response.content
        return response.json()

    def walk():
        seen, params = 0, {"page_size": 50}
        while True:
            body = client.get(URL, params).json()
            seen += len(body["results"])
            if not body["next"]:
                break
            params["cursor"] = parse_qs(urlsplit(body["next"]).query)["cursor"][0]
        assert seen == REQUESTS, seen

    queries = []
    # Counted by an execute wrapper: the request_started signal clears the query log CaptureQueriesContext reads.
    with connection.execute_wrapper(lambda execute, sql, *args: queries.append(sql) or execute(sql, *args)):
        assert len(page()["results"]) == 50
    first = timed(page, RUNS)
    large = timed(lambda: page(200), RUNS)
    walks = timed(walk, WALKS)

    print(f"Database: {connection.vendor} {connection.settings_dict['NAME']}; {REQUESTS} requests, one token")
    print(
        f"GET {URL} (page of 50):  p50 {first[0]:.1f} ms, p95 {first[1]:.1f} ms over {RUNS} calls, {len(queries)} queries"
    )
    print(f"GET {URL}?page_size=200: p50 {large[0]:.1f} ms, p95 {large[1]:.1f} ms over {RUNS} calls")
    print(
        f"Walk all {REQUESTS} by cursor (20 pages): p50 {walks[0]:.0f} ms, p95 {walks[1]:.0f} ms over {WALKS} walks"
    )


if __name__ == "__main__":
    setup_test_environment()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    logging.disable(logging.WARNING)
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        with time_machine.travel(datetime(2025, 6, 2, 10, 0, tzinfo=ZoneInfo("Europe/Paris")), tick=True):
            main()
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
