"""Load test of the production stack on this machine: gunicorn (3 workers) + PostgreSQL + Redis + a Celery
worker, all on 127.0.0.1, driven by Locust (bench/locustfile.py). Compares session backends and
CONN_MAX_AGE, one short run each, and prints throughput, p50/p95/p99 and errors per step.

    pip install -e ".[bench]"
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/chorus REDIS_URL=redis://127.0.0.1:6379/9 \\
        .venv/bin/python bench/load.py [--seconds 45] [--users 24]

It creates a throwaway database `<name>_load` on DATABASE_URL's server (dropped at the end) and empties
REDIS_URL's database before each run: give it a Redis database of its own. About 5 minutes in all.
"""

import argparse
import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import date, timedelta
from pathlib import Path

import psycopg2
from psycopg2 import sql

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PASSWORD = "Bench-Agri-2026!"  # noqa: S105 - the throwaway bench accounts
PORT = 8795
CONFIGS = [  # (session backend, CONN_MAX_AGE)
    ("db", 0),
    ("db", 60),
    ("cached_db", 60),
    ("cache", 60),
]
FARMERS_PER_RUN = 600
CLIENTS, MANAGERS, REQUESTERS = 300, 5, 400


def database_urls():
    url = os.environ["DATABASE_URL"]
    base, _, name = url.rpartition("/")
    return url, f"{base}/{name}_load", f"{name}_load", f"{base}/postgres"


def recreate_database(admin_url, name):
    connection = psycopg2.connect(admin_url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    connection.close()


def drop_database(admin_url, name):
    connection = psycopg2.connect(admin_url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    connection.close()


def build_data(workdir: Path) -> dict:
    """Farmers with a structure and bank details, an accounting firm with 300 clients and their requests,
    managers with 2,000 pending attachment requests. Runs in this process against the bench database."""
    import django

    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", verbosity=0)

    from accounts.models import User
    from attachments.models import AttachmentRequest
    from reimbursements.models import Campaign, EnergyProduct, RefundRequest
    from structures.models import BankAccount, BeneficiaryCategory, Membership, Structure
    from tests.documents import pdf_bytes
    from tests.factories import valid_siret

    today = timezone.localdate()
    campaign = Campaign.objects.get(year=2023)
    Campaign.objects.filter(pk=campaign.pk).update(
        opens_on=date(2024, 1, 1), closes_on=today + timedelta(days=365)
    )
    category = BeneficiaryCategory.objects.get(code="societe-agricole")
    product = EnergyProduct.objects.get(code="gnr")
    rib = default_storage.save("rib/bench-rib.pdf", ContentFile(pdf_bytes()))
    invoice = workdir / "facture.pdf"
    invoice.write_bytes(pdf_bytes())
    password = make_password(PASSWORD)
    now = timezone.now()

    def users(prefix, count):
        return User.objects.bulk_create(
            User(
                email=f"{prefix}{i}@bench.example",
                password=password,
                first_name="Bench",
                last_name=f"{prefix} {i}",
                activated_at=now,
            )
            for i in range(count)
        )

    def structures(prefix, count, seed, creator, **fields):
        return Structure.objects.bulk_create(
            Structure(
                siret=valid_siret(seed + i),
                name=f"{prefix} {i:05d}",
                street="1 route des Champs",
                postcode="35000",
                city="Rennes",
                created_by=creator,
                beneficiary_category=category,
                pacage="035123456",
                **fields,
            )
            for i in range(count)
        )

    def accounts(for_structures, creator):
        return BankAccount.objects.bulk_create(
            BankAccount(
                structure=structure,
                label="Compte courant",
                holder=structure.name,
                iban="FR7630006000011234567890189",
                bic="AGRIFRPP",
                rib_document=rib,
                rib_original_name="RIB.pdf",
                created_by=creator,
            )
            for structure in for_structures
        )

    farmer_count = FARMERS_PER_RUN * len(CONFIGS)
    farmers = users("exploitant", farmer_count)
    farms = structures("EARL Bench", farmer_count, 10_000_000, farmers[0])
    Membership.objects.bulk_create(
        Membership(user=u, structure=s, role=Membership.Role.MAIN_MANAGER)
        for u, s in zip(farmers, farms, strict=True)
    )
    farm_accounts = accounts(farms, farmers[0])

    accountants = users("comptable", 5)
    firm = structures("Cabinet Bench", 1, 20_000_000, accountants[0], is_management_centre=True)[0]
    clients = structures("GAEC client", CLIENTS, 21_000_000, accountants[0])
    client_accounts = accounts(clients, accountants[0])
    Membership.objects.bulk_create(
        [Membership(user=a, structure=firm, role=Membership.Role.MEMBER) for a in accountants]
        + [Membership(user=a, structure=c, role=Membership.Role.MEMBER) for a in accountants for c in clients]
    )
    RefundRequest.objects.bulk_create(
        RefundRequest(
            structure=client,
            campaign=campaign,
            bank_account=account,
            beneficiary_category=category,
            pacage="035123456",
            not_in_difficulty=True,
            created_by=accountants[0],
        )
        for client, account in zip(clients, client_accounts, strict=True)
    )

    managers = users("gestionnaire", MANAGERS)
    managed = structures("SCEA gérée", MANAGERS, 30_000_000, managers[0])
    Membership.objects.bulk_create(
        Membership(user=m, structure=s, role=Membership.Role.MAIN_MANAGER)
        for m, s in zip(managers, managed, strict=True)
    )
    requesters = users("demandeur", REQUESTERS)
    AttachmentRequest.objects.bulk_create(
        AttachmentRequest(requester=r, structure=s, comment="Merci de me rattacher.")
        for s in managed
        for r in requesters
    )
    return {
        "farmers": [
            {"email": u.email, "siret": s.siret, "bank_account": a.pk}
            for u, s, a in zip(farmers, farms, farm_accounts, strict=True)
        ],
        "accountants": [a.email for a in accountants],
        "managers": [m.email for m in managers],
        "campaign": campaign.pk,
        "category": category.pk,
        "product": product.pk,
        "delivery_date": "2023-04-12",
        "invoice": str(invoice),
    }


def wait_ready(url, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own 127.0.0.1 server
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} never answered 200")


def stop(process):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run_config(env, workdir, data_file, invoice, dsn, session, conn_max_age, index, seconds, users):
    run_env = {**env, "SESSION_BACKEND": session, "CONN_MAX_AGE": str(conn_max_age)}
    import redis

    redis.Redis.from_url(env["REDIS_URL"]).flushdb()
    logs = workdir / f"run{index}"
    logs.mkdir()
    worker = subprocess.Popen(  # noqa: S603
        [BIN / "celery", "-A", "chorus", "worker", "-P", "solo", "--loglevel", "WARNING"],
        cwd=ROOT,
        env=run_env,
        stdout=open(logs / "worker.log", "w"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
    )
    web = subprocess.Popen(  # noqa: S603
        [
            BIN / "gunicorn",
            "chorus.wsgi",
            "-c",
            "deploy/gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--workers",
            "3",
        ],
        cwd=ROOT,
        env=run_env,
        stdout=open(logs / "web.log", "w"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
    )
    try:
        wait_ready(f"http://127.0.0.1:{PORT}/sante/pret")
        prefix = logs / "locust"
        subprocess.run(  # noqa: S603
            [
                BIN / "locust",
                "-f",
                str(ROOT / "bench" / "locustfile.py"),
                "--headless",
                "--users",
                str(users),
                "--spawn-rate",
                str(max(1, users // 4)),
                "--run-time",
                f"{seconds}s",
                "--stop-timeout",
                "10",
                "--host",
                f"http://127.0.0.1:{PORT}",
                "--csv",
                str(prefix),
                "--only-summary",
                "--loglevel",
                "WARNING",
            ],
            cwd=ROOT,
            env={
                **run_env,
                "BENCH_DATA": str(data_file),
                "BENCH_PASSWORD": PASSWORD,
                "BENCH_INVOICE": invoice,
                "BENCH_DATABASE_DSN": dsn,
                "BENCH_FARMER_OFFSET": str(index * FARMERS_PER_RUN),
            },
            stdout=open(logs / "locust.log", "w"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
            check=False,
            timeout=seconds + 90,
        )
        with open(f"{prefix}_stats.csv") as handle:
            return list(csv.DictReader(handle))
    finally:
        stop(web)
        stop(worker)


def report(session, conn_max_age, rows, seconds):
    print(f"\n== SESSION_BACKEND={session} CONN_MAX_AGE={conn_max_age} ({seconds} s) ==")
    print(f"{'step':44} {'reqs':>6} {'errors':>6} {'req/s':>7} {'p50':>6} {'p95':>6} {'p99':>6}  (ms)")
    for row in rows:
        name = row["Name"] if row["Type"] else "TOTAL"
        print(
            f"{(row['Type'] + ' ' + name).strip()[:44]:44} {row['Request Count']:>6} {row['Failure Count']:>6} "
            f"{float(row['Requests/s']):7.1f} {row['50%']:>6} {row['95%']:>6} {row['99%']:>6}"
        )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=45)
    parser.add_argument("--users", type=int, default=24)
    parser.add_argument(
        "--configs", default=",".join(f"{s}:{c}" for s, c in CONFIGS), help="e.g. db:0,cached_db:60"
    )
    args = parser.parse_args()
    configs = [(item.split(":")[0], int(item.split(":")[1])) for item in args.configs.split(",")]
    _, bench_url, bench_name, admin_url = database_urls()
    workdir = Path(tempfile.mkdtemp(prefix="chorus-load-"))
    env = {
        **os.environ,
        "DATABASE_URL": bench_url,
        # Production settings, over plain HTTP on 127.0.0.1: dev mode without debug (production's secure
        # cookies would not come back over http); sessions, cache, Celery and database as in production.
        "DJANGO_ENV": "dev",
        "DEBUG": "false",
        "DJANGO_SETTINGS_MODULE": "chorus.settings",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": f"http://127.0.0.1:{PORT}",
        "TRUSTED_PROXY_COUNT": "1",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(workdir / "mails"),
        "MEDIA_ROOT": str(workdir / "private"),
        "LOG_FORMAT": "json",
        "PROMETHEUS_MULTIPROC_DIR": str(workdir / "prometheus"),
        "PYTHONPATH": str(ROOT),
    }
    recreate_database(admin_url, bench_name)
    results = []
    try:
        os.environ.update({k: v for k, v in env.items() if k != "PROMETHEUS_MULTIPROC_DIR"})
        sys.path.insert(0, str(ROOT))
        started = time.monotonic()
        data = build_data(workdir)
        data_file = workdir / "data.json"
        data_file.write_text(json.dumps(data))
        print(f"Data built in {time.monotonic() - started:.0f} s (logs and CSV under {workdir})")
        dsn = bench_url.replace("postgres://", "postgresql://", 1)
        for index, (session, conn_max_age) in enumerate(configs):
            rows = run_config(
                env,
                workdir,
                data_file,
                data["invoice"],
                dsn,
                session,
                conn_max_age,
                index,
                args.seconds,
                args.users,
            )
            results.append((session, conn_max_age, rows))
            report(session, conn_max_age, rows, args.seconds)
    finally:
        from django.db import connections

        connections.close_all()
        drop_database(admin_url, bench_name)
    print("\n== Summary (all steps) ==")
    for session, conn_max_age, rows in results:
        total = next(row for row in rows if row["Name"] == "Aggregated")
        print(
            f"SESSION_BACKEND={session:9} CONN_MAX_AGE={conn_max_age:<3} {float(total['Requests/s']):6.1f} req/s  "
            f"p50 {total['50%']} ms  p95 {total['95%']} ms  p99 {total['99%']} ms  "
            f"errors {total['Failure Count']}/{total['Request Count']}"
        )


if __name__ == "__main__":
    main()
