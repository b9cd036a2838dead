"""Time the pages that pick a structure, for a firm user attached to 20 and to 2,000 structures.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/chorus .venv/bin/python bench/pickers.py

It creates a throwaway database (`test_<name>`), loads two users (one attached to 20 structures, one to
2,000, as manager so that « Gérer une structure » has them all), then times each page through Django's
test client: median and 95th percentile over RUNS requests, SQL queries and HTML size. The same number of
queries at both sizes and a page size that does not grow are the point; the bulk check posts 2,000 SIRETs.
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

from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402

from tests.factories import valid_siret  # noqa: E402

SIZES = (20, 2_000)
RUNS = 20


def load(size: int, offset: int):
    from accounts.models import User
    from structures.models import Membership, Structure

    user = User.objects.create(email=f"cabinet{size}@example.fr", first_name="Yann", last_name="Morvan")
    structures = Structure.objects.bulk_create(
        Structure(
            siret=valid_siret(offset + n),
            name=f"Client {n:05d}",
            street="1 rue",
            postcode="35000",
            city="Rennes",
            created_by=user,
        )
        for n in range(size)
    )
    Membership.objects.bulk_create(
        Membership(user=user, structure=s, role=Membership.Role.MANAGER) for s in structures
    )
    return user, [s.siret for s in structures]


def measure(client, label, url, *, data=None, headers=None):
    send = (lambda: client.post(url, data)) if data else (lambda: client.get(url, headers=headers or {}))
    send()  # warm caches and the connection
    timings = []
    for _ in range(RUNS):
        cache.clear()  # the bulk check is rate limited per account
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = send()
            timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    timings.sort()
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(
        f"  {label:<44} median {statistics.median(timings):6.1f} ms   p95 {p95:6.1f} ms   "
        f"{len(queries):2d} queries   {len(response.content) / 1024:6.1f} KiB"
    )


def main():
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL server: the benchmark measures PostgreSQL.")
    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        users = {size: load(size, 300_000 + 10_000 * i) for i, size in enumerate(SIZES)}
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        search = reverse("structures:search")
        htmx = {"HX-Request": "true"}
        for size, (user, sirets) in users.items():
            client = Client()
            client.force_login(user)
            print(f"A firm user attached to {size:,} structures:")
            measure(client, "« Demandes de remboursement » (filter)", reverse("reimbursements:list"))
            measure(client, "« Saisir une demande » (header)", reverse("reimbursements:create"))
            measure(client, "« Gérer une structure »", reverse("structures:manage"))
            measure(client, "« Demander un rattachement »", reverse("attachments:request_create"))
            measure(client, "« Organisation », page 1", reverse("structures:index"))
            measure(
                client,
                "suggestions, name « client 0001 » (htmx)",
                f"{search}?scope=filing&field=q&q=client+0001&list=l",
                headers=htmx,
            )
            measure(
                client,
                "suggestions, SIRET prefix (htmx)",
                f"{search}?scope=attached&field=q&q={sirets[0][:9]}&list=l",
                headers=htmx,
            )
            measure(client, "results page without JavaScript", f"{search}?scope=attached&q=client")
            measure(
                client,
                f"bulk attachment check of {len(sirets):,} SIRETs",
                reverse("attachments:request_bulk"),
                data={"action": "check", "sirets": "\n".join(sirets), "comment": ""},
            )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
