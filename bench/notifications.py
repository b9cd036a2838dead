"""Time the daily reminders run on PostgreSQL with thousands of structures.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/chorus .venv/bin/python bench/notifications.py

It creates a throwaway database (`test_<name>`), loads STRUCTURES farms (a main manager and a member each,
one in two having filed its 2023 request, one in ten with a draft), FIRMS accounting firms whose user is
attached to CLIENTS_PER_FIRM of those farms (daily digest), and PENDING attachment requests waiting for
three weeks; then runs the job 30 days before the 2023 campaign closes (every mail is rendered and queued
in the outbox; delivery is the workers' job, here an in-memory broker), runs it again the same day
(nothing new), prints timings and SQL query counts, and drops the database.
"""

import os
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chorus.settings.test")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

from chorus import celery_app  # noqa: E402
from tests.factories import valid_siret  # noqa: E402

STRUCTURES = 2_000
FIRMS = 10
CLIENTS_PER_FIRM = 100
PENDING = 200
BATCH = 2_000
TODAY = date(2026, 12, 1)  # 30 days before the 2023 campaign closes


def load():
    from django.contrib.auth.hashers import make_password

    from accounts.models import User
    from attachments.models import AttachmentRequest
    from reimbursements.models import Campaign, RefundRequest
    from structures.models import Membership, Structure

    unusable = make_password(None)
    campaign = Campaign.objects.get(year=2023)
    users = User.objects.bulk_create(
        [
            User(email=f"u{n}@example.fr", first_name="Anne", last_name=f"U{n}", password=unusable)
            for n in range(2 * STRUCTURES + FIRMS + PENDING)
        ],
        batch_size=BATCH,
    )
    managers, members = users[:STRUCTURES], users[STRUCTURES : 2 * STRUCTURES]
    firms, requesters = users[2 * STRUCTURES : 2 * STRUCTURES + FIRMS], users[2 * STRUCTURES + FIRMS :]
    structures = Structure.objects.bulk_create(
        [
            Structure(
                siret=valid_siret(700_000 + n),
                name=f"EARL {n}",
                street="1 rue",
                postcode="35000",
                city="Rennes",
                created_by=managers[n],
            )
            for n in range(STRUCTURES)
        ],
        batch_size=BATCH,
    )
    memberships = [
        Membership(user=managers[n], structure=s, role=Membership.Role.MAIN_MANAGER)
        for n, s in enumerate(structures)
    ]
    memberships += [Membership(user=members[n], structure=s) for n, s in enumerate(structures)]
    memberships += [
        Membership(user=firm, structure=structures[f * CLIENTS_PER_FIRM + c], role=Membership.Role.MANAGER)
        for f, firm in enumerate(firms)
        for c in range(CLIENTS_PER_FIRM)
    ]
    Membership.objects.bulk_create(memberships, batch_size=BATCH)
    now = datetime(2026, 11, 1, tzinfo=ZoneInfo("Europe/Paris"))
    requests = []
    for n, structure in enumerate(structures):
        if n % 2:
            requests.append(
                RefundRequest(
                    structure=structure,
                    campaign=campaign,
                    status="filed",
                    number=f"TIC-2023-{n:06d}",
                    filed_at=now,
                    filed_by=managers[n],
                    created_by=managers[n],
                )
            )
        elif n % 10 == 0:
            requests.append(RefundRequest(structure=structure, campaign=campaign, created_by=managers[n]))
    RefundRequest.objects.bulk_create(requests, batch_size=BATCH)
    AttachmentRequest.objects.bulk_create(
        [AttachmentRequest(requester=user, structure=structures[n * 2]) for n, user in enumerate(requesters)],
        batch_size=BATCH,
    )
    AttachmentRequest.objects.update(created_at=now - timedelta(days=10))
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def timed(label, call):
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        result = call()
        elapsed = time.perf_counter() - started
    print(f"{label:<58} {elapsed * 1000:9.0f} ms   {len(queries):6} queries")
    return result


def main():
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL server: the benchmark measures PostgreSQL.")
    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from notifications.selectors import reminders_due
        from notifications.services import reminders_send_due

        started = time.perf_counter()
        load()
        print(
            f"Loaded {STRUCTURES:,} structures ({2 * STRUCTURES:,} members), {FIRMS} firms of "
            f"{CLIENTS_PER_FIRM} clients, {PENDING} pending attachment requests in "
            f"{time.perf_counter() - started:.1f} s"
        )
        due = timed("select what is due (no writes)", lambda: list(reminders_due(TODAY)))
        print(f"  {len(due):,} reminders due")
        # As in production, the run queues the mails and the workers deliver them (here: an in-memory broker).
        celery_app.conf.task_always_eager = False
        celery_app.conf.broker_url = "memory://"
        summary = timed(
            "daily run: insert, render, queue in the outbox", lambda: reminders_send_due(today=TODAY)
        )
        print(f"  {summary.created:,} reminders, {summary.mails:,} mails ({summary.digests} digests)")
        summary = timed(
            "same day again (a second beat): nothing new", lambda: reminders_send_due(today=TODAY)
        )
        assert summary.created == 0 and summary.mails == 0, summary
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
