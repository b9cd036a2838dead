"""Times the « Demandes de remboursement » list and CSV export with 1,000 requests, and the filing of a
50-line request. Runs in a throwaway test database (created and dropped here), against DATABASE_URL's server.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/chorus .venv/bin/python bench/reimbursements.py
"""

import logging
import os
import statistics
import sys
import tempfile
import time
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chorus.settings.test")

import django

django.setup()

import time_machine  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.files.base import ContentFile  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402

REQUESTS = 1000
LINES = 50
FILINGS = 20
RUNS = 30


def timed(function, runs):
    durations = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        durations.append((time.perf_counter() - start) * 1000)
    return statistics.median(durations), max(durations)


def main():
    from accounts.models import User
    from reimbursements import services
    from reimbursements.models import Campaign, EnergyProduct, RefundLine, RefundRequest
    from structures.models import BankAccount, BeneficiaryCategory, Membership, Structure
    from tests.documents import pdf_bytes
    from tests.factories import valid_siret

    user = User.objects.create_user(email="bench@example.fr")
    campaigns = list(Campaign.objects.order_by("year"))
    category = BeneficiaryCategory.objects.get(code="societe-agricole")
    per_structure = len(campaigns)
    structures = Structure.objects.bulk_create(
        Structure(
            siret=valid_siret(700000 + i),
            name=f"Ferme {i:04d}",
            street="1 rue des Champs",
            postcode="35000",
            city="Rennes",
            beneficiary_category=category,
            created_by=user,
        )
        for i in range(-(-REQUESTS // per_structure) + FILINGS)
    )
    Membership.objects.bulk_create(
        Membership(user=user, structure=structure, role=Membership.Role.MAIN_MANAGER)
        for structure in structures
    )
    listed = structures[:-FILINGS]
    RefundRequest.objects.bulk_create(
        RefundRequest(
            structure=listed[i // per_structure],
            campaign=campaigns[i % per_structure],
            created_by=user,
            total_amount=Decimal("1234.56"),
        )
        for i in range(REQUESTS)
    )

    client = Client()
    client.force_login(user)
    list_url = reverse("reimbursements:list")
    with CaptureQueriesContext(connection) as queries:
        assert client.get(list_url).status_code == 200
    list_queries = len(queries)
    list_ms = timed(lambda: client.get(list_url), RUNS)
    filtered_ms = timed(lambda: client.get(list_url, {"year": "2023", "status": "draft", "number": ""}), RUNS)
    export_url = reverse("reimbursements:export")
    export_ms = timed(lambda: b"".join(client.get(export_url).streaming_content), 10)

    # Filing: 20 requests of 50 lines each (two products), each line with its invoice copy.
    campaign = Campaign.objects.get(year=2023)
    products = [
        EnergyProduct.objects.get(code="gnr"),
        EnergyProduct.objects.get(code="gaz-naturel-combustible"),
    ]
    invoice = pdf_bytes()
    drafts = []
    add_line_ms = []
    for structure in structures[-FILINGS:]:
        account = BankAccount(
            structure=structure,
            label="Compte courant",
            holder=structure.name,
            iban="FR7630006000011234567890189",
            bic="AGRIFRPP",
            rib_original_name="RIB.pdf",
            created_by=user,
        )
        account.rib_document.save("rib.pdf", ContentFile(invoice), save=False)
        account.save()
        draft = RefundRequest.objects.create(
            structure=structure,
            campaign=campaign,
            bank_account=account,
            beneficiary_category=category,
            not_in_difficulty=True,
            created_by=user,
        )
        for n in range(LINES):
            upload = ContentFile(invoice, name=f"facture-{n}.pdf")
            start = time.perf_counter()
            services.refund_line_save(
                refund_request_id=draft.pk,
                invoice_number=f"FAC-{n:03d}",
                delivery_date=date(2023, 1 + n % 12, 10),
                product=products[n % 2],
                quantity=Decimal("123.456"),
                invoice_copy=upload,
            )
            add_line_ms.append((time.perf_counter() - start) * 1000)
        drafts.append(draft.pk)
    assert RefundLine.objects.filter(request_id__in=drafts).count() == LINES * FILINGS

    filing_ms = []
    for pk in drafts:
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            services.refund_request_file(refund_request_id=pk, user=user, advance=False)
            filing_ms.append((time.perf_counter() - start) * 1000)
    filing_queries = len(queries)

    print(f"Database: {connection.vendor} {connection.settings_dict['NAME']}")
    print(
        f"List of {REQUESTS} requests (page of 50): median {list_ms[0]:.1f} ms, max {list_ms[1]:.1f} ms, "
        f"{list_queries} queries"
    )
    print(f"List filtered (year, status):     median {filtered_ms[0]:.1f} ms, max {filtered_ms[1]:.1f} ms")
    print(f"CSV export of {REQUESTS} requests:   median {export_ms[0]:.1f} ms, max {export_ms[1]:.1f} ms")
    print(f"Add one line (with invoice copy): median {statistics.median(add_line_ms):.1f} ms")
    print(
        f"File a {LINES}-line request:         median {statistics.median(filing_ms):.1f} ms, "
        f"max {max(filing_ms):.1f} ms over {FILINGS} filings, {filing_queries} queries"
    )


if __name__ == "__main__":
    setup_test_environment()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    logging.disable(logging.INFO)
    with tempfile.TemporaryDirectory() as media:
        settings.MEDIA_ROOT = media
        old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        try:
            # A day when the 2023 campaign is open, whatever today's date.
            with time_machine.travel(datetime(2025, 6, 2, 10, 0, tzinfo=ZoneInfo("Europe/Paris")), tick=True):
                main()
        finally:
            connection.creation.destroy_test_db(old_name, verbosity=0)
