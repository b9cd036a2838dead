"""Time the « Approbations » inbox and its badge with 50,000 pending attachment requests on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/chorus .venv/bin/python bench/attachments_inbox.py

It creates a throwaway database (`test_<name>`), loads one manager of 10 structures with 50,000 pending
requests plus 50,000 decided ones (100,000 requesters: the worst case, every request in one inbox) and a
farm manager with 20 pending requests (the usual case), then times each page through Django's test client
(median and 95th percentile over RUNS requests, with the number of SQL queries) and drops the database.
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
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from tests.factories import valid_siret  # noqa: E402

PENDING = 50_000
DECIDED = 50_000
STRUCTURES = 10
RUNS = 30
BATCH = 5_000


def load():
    from django.contrib.auth.hashers import make_password

    from accounts.models import User
    from attachments.models import AttachmentRequest
    from structures.models import Membership, Structure

    manager = User.objects.create(email="gestionnaire@example.fr", first_name="Jeanne", last_name="Lebreton")
    structures = Structure.objects.bulk_create(
        Structure(
            siret=valid_siret(500_000 + n),
            name=f"EARL {n}",
            street="1 rue",
            postcode="35000",
            city="Rennes",
            created_by=manager,
        )
        for n in range(STRUCTURES)
    )
    Membership.objects.bulk_create(
        Membership(user=manager, structure=s, role=Membership.Role.MAIN_MANAGER) for s in structures
    )
    now = timezone.now()
    total = PENDING + DECIDED
    unusable = make_password(None)
    for start in range(0, total, BATCH):
        users = User.objects.bulk_create(
            User(email=f"demandeur{n}@example.fr", first_name="Anne", last_name=f"D{n}", password=unusable)
            for n in range(start, min(start + BATCH, total))
        )
        AttachmentRequest.objects.bulk_create(
            AttachmentRequest(
                requester=user,
                structure=structures[(start + i) % STRUCTURES],
                **(
                    {"status": "pending"}
                    if start + i < PENDING
                    else {"status": "approved", "decided_by": manager, "decided_at": now}
                ),
            )
            for i, user in enumerate(users)
        )
    # A typical farm manager: one structure with a handful of pending requests among the 50,000.
    farmer = User.objects.create(email="exploitant@example.fr", first_name="Paul", last_name="Exploitant")
    farm = Structure.objects.create(
        siret=valid_siret(600_000),
        name="GAEC",
        street="1 rue",
        postcode="35000",
        city="Rennes",
        created_by=farmer,
    )
    Membership.objects.create(user=farmer, structure=farm, role=Membership.Role.MAIN_MANAGER)
    AttachmentRequest.objects.bulk_create(
        AttachmentRequest(requester=user, structure=farm) for user in User.objects.order_by("pk")[2:22]
    )
    with connection.cursor() as cursor:
        # What autovacuum does after a bulk load: statistics and the visibility map for index-only scans.
        cursor.execute("VACUUM ANALYZE")
    return manager, farmer


def measure(client, label, url):
    client.get(url)  # warm caches and the connection
    timings = []
    for _ in range(RUNS):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    timings.sort()
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(
        f"{label:<52} median {statistics.median(timings):7.1f} ms   p95 {p95:7.1f} ms   {len(queries)} queries"
    )


def main():
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL server: the benchmark measures PostgreSQL.")
    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        started = time.perf_counter()
        manager, farmer = load()
        print(
            f"Loaded {PENDING + 20:,} pending + {DECIDED:,} decided requests on {STRUCTURES} structures "
            f"in {time.perf_counter() - started:.1f} s"
        )
        client = Client()
        client.force_login(manager)
        print(f"A manager of {STRUCTURES} structures holding all {PENDING:,} pending requests:")
        inbox = reverse("attachments:approval_list")
        from attachments.models import AttachmentRequest

        one = AttachmentRequest.objects.filter(status="pending").order_by("pk").first()
        measure(client, "home page with the « Approbations » badge", reverse("home"))
        measure(client, "inbox, à traiter, newest first, page 1", inbox)
        measure(client, "inbox, à traiter, oldest first, page 1", inbox + "?tri=anciennes")
        measure(client, "inbox, à traiter, last page (2,500)", inbox + "?page=2500")
        measure(client, "inbox, traitées, page 1", inbox + "?etat=traitees")
        measure(client, "approval detail", reverse("attachments:approval_detail", args=[one.pk]))
        print("A farm manager with 20 pending requests among the same 100,000:")
        client.force_login(farmer)
        measure(client, "home page with the « Approbations » badge", reverse("home"))
        measure(client, "inbox, à traiter, newest first, page 1", inbox)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
