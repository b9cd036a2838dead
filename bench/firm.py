"""Issue 10's « Measure »: the pages of a management centre at 2,000 clients, an import of 10,000 rows, and
req/s under gunicorn beside a bare one-query view. Runs in a throwaway database (created and dropped here)
on DATABASE_URL's PostgreSQL server, on the date 2 June 2025 (campaigns 2022 and 2023 open).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/chorus .venv/bin/python bench/firm.py

Options: --no-pages, --no-import, --no-gunicorn; BENCH_CLIENTS, BENCH_ROWS, BENCH_RUNS, BENCH_LOAD_SECONDS for a smaller run.
Bounded: RUNS requests per page in-process (median and 95th percentile server time, query count, HTML
size), then LOAD_SECONDS of load per URL on 127.0.0.1 with LOAD_THREADS keep-alive clients.
"""

import http.client
import io
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chorus.settings.test")

import django  # noqa: E402

django.setup()

import time_machine  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.files.base import ContentFile  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "30"))
IMPORT_ROWS = int(os.environ.get("BENCH_ROWS", "10000"))
LOAD_SECONDS = int(os.environ.get("BENCH_LOAD_SECONDS", "8"))
LOAD_THREADS = 8
PORT = 8765


def measure(client, label, url, params=None, runs=RUNS):
    def get():
        response = client.get(url, params or {})
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert response.status_code == 200, (url, response.status_code)
        return body

    get()  # warm caches and the connection
    timings = []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            body = get()
            timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
    print(
        f"  {label:<44} p50 {statistics.median(timings):7.1f} ms  p95 {p95:7.1f} ms  "
        f"{len(queries):3d} queries  {len(body) / 1024:7.1f} KiB"
    )


def pages(data):
    from reimbursements.models import RefundRequest

    client = Client()
    client.force_login(data.firm_user)
    print(f"Firm user attached to {len(data.clients):,} clients, {RefundRequest.objects.count():,} requests:")
    measure(client, "Demandes de remboursement (list)", reverse("reimbursements:list"))
    measure(
        client,
        "Demandes, filtered (2023, brouillon)",
        reverse("reimbursements:list"),
        {"year": 2023, "status": "draft"},
    )
    measure(client, "Organisation", reverse("structures:index"))
    measure(client, "Mes rattachements", reverse("attachments:membership_list"))
    measure(client, "CSV export of the list (10,000 rows)", reverse("reimbursements:export"), runs=5)
    measure(client, "Mes clients", reverse("reimbursements:portfolio"))
    measure(
        client,
        "Mes clients, À faire, sorted by amount",
        reverse("reimbursements:portfolio"),
        {"to_do": "on", "sort": "-requested"},
    )
    measure(client, "Mes clients, search", reverse("reimbursements:portfolio"), {"q": "Bocage 19"})
    measure(client, "Mes clients, page 40", reverse("reimbursements:portfolio"), {"page": 40})
    measure(client, "Mes clients CSV export (4,000 rows)", reverse("reimbursements:portfolio_csv"), runs=5)
    measure(client, "Mes clients XLSX export (4,000 rows)", reverse("reimbursements:portfolio_xlsx"), runs=5)
    measure(client, "Saisir une demande", reverse("reimbursements:create"))
    measure(
        client, "Request detail (50 lines)", reverse("reimbursements:detail", args=[data.detail_request_id])
    )
    client.force_login(data.manager)
    print("Manager with 20,000 pending attachment requests:")
    measure(client, "Approbations", reverse("attachments:approval_list"))


def import_files(data, rows: int):
    """A 10,000-row CSV over every client (year 2023, one invoice copy per row) and its ZIP."""
    from tests.documents import pdf_bytes

    pdf = pdf_bytes()
    per_client = -(-rows // len(data.clients))
    lines = ["SIRET;Année;Numéro de facture;Date de livraison;Produit;Quantité;Fichier de la facture"]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        for n in range(rows):
            client = data.clients[n // per_client]
            name = f"factures/F{n:05d}.pdf"
            lines.append(
                f"{client.siret};2023;BENCH-{n:05d};{1 + n % 28:02d}/{1 + n % 12:02d}/2023;gnr;1 234,5;{name}"
            )
            bundle.writestr(name, pdf)
    return ("\r\n".join(lines) + "\r\n").encode("cp1252"), archive.getvalue()


def bulk_import(data):
    from reimbursements import import_services
    from reimbursements.bulk_forms import ImportUploadForm
    from reimbursements.import_models import ImportJob
    from reimbursements.models import RefundLine

    lines, archive = import_files(data, IMPORT_ROWS)
    before = RefundLine.objects.count()
    started = time.perf_counter()
    from django.core.files.uploadedfile import SimpleUploadedFile

    form = ImportUploadForm(
        files={
            "lines_file": SimpleUploadedFile("lignes.csv", lines),
            "archive": SimpleUploadedFile("factures.zip", archive),
        }
    )
    assert form.is_valid(), form.errors
    upload_s = time.perf_counter() - started
    job = ImportJob(user=data.firm_user, total=form.row_count)
    job.lines_file.save("bench.csv", ContentFile(lines), save=False)
    job.archive.save("bench.zip", ContentFile(archive), save=False)
    job.save()
    started = time.perf_counter()
    job = import_services.import_check(job_id=job.pk)
    check_s = time.perf_counter() - started
    assert job.status == "checked", job.error
    ok = job.count("ok")
    job = import_services.import_start(job_id=job.pk, user=data.firm_user, not_in_difficulty=True)
    started = time.perf_counter()
    queries = []

    def count(execute, sql, params, many, context):
        # A counter, not CaptureQueriesContext: Django keeps only the last 9,000 queries it logs.
        queries.append(None)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        job = import_services.import_run(job_id=job.pk)
    import_s = time.perf_counter() - started
    added = RefundLine.objects.count() - before
    print(
        f"Import of {IMPORT_ROWS:,} rows for {len(data.clients):,} structures (CSV {len(lines) / 1024:.0f} KiB, "
        f"ZIP {len(archive) / 1024 / 1024:.1f} MiB, {IMPORT_ROWS:,} invoice copies):"
    )
    print(f"  upload form checks (file contents, archive)  {upload_s:6.1f} s")
    print(f"  check (dry run, every row and invoice)       {check_s:6.1f} s   {ok:,} rows ready")
    print(
        f"  import (one transaction per structure)       {import_s:6.1f} s   {added:,} lines added, {len(queries):,} queries"
    )
    print(f"  total                                        {upload_s + check_s + import_s:6.1f} s")
    started = time.perf_counter()
    job = ImportJob.objects.get(pk=job.pk)
    ImportJob.objects.filter(pk=job.pk).update(status="checking", rows=[], done=0)
    job = import_services.import_check(job_id=job.pk)
    print(
        f"  re-check of the same file: {job.count('skip'):,} rows « déjà importée » in {time.perf_counter() - started:.1f} s"
    )


def _load(url: str, cookie: str, seconds: float) -> float:
    """Requests per second over `seconds`, LOAD_THREADS keep-alive connections to 127.0.0.1."""
    counts = [0] * LOAD_THREADS
    stop = time.monotonic() + seconds

    def worker(index):
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        headers = {"Cookie": f"sessionid={cookie}"} if cookie else {}
        while time.monotonic() < stop:
            conn.request("GET", url, headers=headers)
            response = conn.getresponse()
            response.read()
            assert response.status == 200, (url, response.status)
            counts[index] += 1
        conn.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(LOAD_THREADS)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.monotonic() - started)


def gunicorn_run(data):
    client = Client()
    client.force_login(data.firm_user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings_bench",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "BENCH_BIND": f"127.0.0.1:{PORT}",
    }
    env.pop("REDIS_URL", None)  # the rate-limit cache in process memory: no Redis round trip to measure
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "bench.wsgi_bench:application", "-c", "bench/gunicorn_conf.py"],
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=2)
                conn.request("GET", "/bare/")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        workers = os.environ.get("BENCH_WORKERS", "4")
        print(
            f"gunicorn, {workers} sync workers, {LOAD_THREADS} keep-alive clients, {LOAD_SECONDS} s per URL:"
        )
        for label, url, with_cookie in (
            ("bare Django view, one query", "/bare/", False),
            ("Demandes de remboursement (list)", reverse("reimbursements:list"), True),
            ("Mes clients", reverse("reimbursements:portfolio"), True),
            ("bare Django view, one query (again)", "/bare/", False),
        ):
            _load(url, cookie if with_cookie else "", 1)  # warm every worker
            print(f"  {label:<44} {_load(url, cookie if with_cookie else '', LOAD_SECONDS):8.0f} req/s")
    finally:
        server.terminate()
        server.wait(timeout=30)


def main():
    from bench.firm_data import build

    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL server: the benchmark measures PostgreSQL.")
    started = time.perf_counter()
    data = build(clients=int(os.environ.get("BENCH_CLIENTS", "2000")))
    print(f"Loaded the bench data in {time.perf_counter() - started:.1f} s")
    if "--no-pages" not in sys.argv:
        pages(data)
    if "--no-import" not in sys.argv:
        bulk_import(data)
    if "--no-gunicorn" not in sys.argv:
        gunicorn_run(data)


if __name__ == "__main__":
    setup_test_environment()
    settings.DEBUG = False
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    logging.disable(logging.INFO)
    with tempfile.TemporaryDirectory() as media:
        settings.MEDIA_ROOT = media
        old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        try:
            with time_machine.travel(datetime(2025, 6, 2, 10, 0, tzinfo=ZoneInfo("Europe/Paris")), tick=True):
                main()
        finally:
            connection.close()
            connection.creation.destroy_test_db(old_name, verbosity=0)
