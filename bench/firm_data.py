"""Bench data at the size of a large management centre (issue 10's « Measure »), loaded with bulk inserts:

- one firm user, attached to the firm's own structure and to 2,000 client structures (each with a bank account
  and its RIB copy, a beneficiary category), holding 10,000 refund requests (2019 to 2023, one per year: the
  old ones paid, 2022 filed, 2023 drafts with a line each; one 2023 draft has 50 lines);
- one manager of 10 structures with 20,000 pending attachment requests (20,000 requesters).

Used by bench/firm.py; call `build()` inside a throwaway database.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

CLIENTS = 2_000
YEARS = (2019, 2020, 2021, 2022, 2023)
PENDING_ATTACHMENTS = 20_000
MANAGED_STRUCTURES = 10
DETAIL_LINES = 50
BATCH = 5_000
PARIS = ZoneInfo("Europe/Paris")


@dataclass
class BenchData:
    firm_user: object
    manager: object
    detail_request_id: int
    clients: list


def _siret(seed: int) -> str:
    from tests.factories import valid_siret

    return valid_siret(seed)


def build(*, clients: int = CLIENTS, pending: int = PENDING_ATTACHMENTS) -> BenchData:
    from django.contrib.auth.hashers import make_password
    from django.db import connection

    from accounts.models import User
    from attachments.models import AttachmentRequest
    from reimbursements.models import Campaign, EnergyProduct, RefundLine, RefundRequest, line_amount
    from structures.models import BankAccount, BeneficiaryCategory, Membership, Structure

    unusable = make_password(None)
    firm_user = User.objects.create(
        email="cabinet@example.fr", first_name="Claire", last_name="Comptable", password=unusable
    )
    owner = User.objects.create(
        email="proprietaire@example.fr", first_name="P", last_name="O", password=unusable
    )
    firm = Structure.objects.create(
        siret=_siret(800_000),
        name="Centre de gestion du Bocage",
        street="2 rue du Marché",
        postcode="35500",
        city="Vitré",
        is_management_centre=True,
        created_by=firm_user,
    )
    Membership.objects.create(user=firm_user, structure=firm, role=Membership.Role.MAIN_MANAGER)
    category = BeneficiaryCategory.objects.get(code="societe-agricole")
    structures = Structure.objects.bulk_create(
        Structure(
            siret=_siret(810_000 + n),
            name=f"EARL du Bocage {n:04d}",
            street=f"{n} chemin des Prés",
            postcode="35500",
            city="Vitré",
            beneficiary_category=category,
            pacage=f"035{n:06d}",
            created_by=owner,
        )
        for n in range(clients)
    )
    Membership.objects.bulk_create(Membership(user=firm_user, structure=s) for s in structures)
    accounts = BankAccount.objects.bulk_create(
        BankAccount(
            structure=s,
            label="Compte courant",
            holder=s.name,
            iban="FR7630006000011234567890189",
            bic="AGRIFRPP",
            rib_document="rib/bench.pdf",
            rib_original_name="RIB.pdf",
            created_by=owner,
        )
        for s in structures
    )
    campaigns = {c.year: c for c in Campaign.objects.filter(year__in=YEARS)}
    filed_at = datetime(2025, 5, 2, 10, 0, tzinfo=PARIS)
    requests = []
    for index, (structure, account) in enumerate(zip(structures, accounts, strict=True)):
        for year in YEARS:
            status = "paid" if year <= 2021 else "filed" if year == 2022 else "draft"
            filed = status != "draft"
            requests.append(
                RefundRequest(
                    structure=structure,
                    campaign=campaigns[year],
                    bank_account=account,
                    beneficiary_category=category,
                    pacage=structure.pacage,
                    not_in_difficulty=True,
                    status=status,
                    number=f"TIC-{year}-{index + 1:06d}" if filed else None,
                    filed_at=filed_at if filed else None,
                    filed_by=firm_user if filed else None,
                    total_amount=Decimal("1496.00"),
                    paid_amount=Decimal("1496.00") if status == "paid" else None,
                    created_by=firm_user,
                )
            )
    RefundRequest.objects.bulk_create(requests, batch_size=BATCH)
    gnr = EnergyProduct.objects.get(code="gnr")
    rate = campaigns[2023].rates.filter(product=gnr).first()
    drafts = list(RefundRequest.objects.filter(status="draft").order_by("pk"))
    lines = [
        RefundLine(
            request=draft,
            invoice_number=f"FAC-{draft.pk}-{n:02d}",
            delivery_date=date(2023, 1 + n % 12, 10),
            product=gnr,
            quantity=Decimal("100"),
            rate=rate.amount,
            amount=line_amount(Decimal("100"), rate.amount),
            invoice_copy="invoices/bench.pdf",
            invoice_original_name="facture.pdf",
        )
        for draft in drafts
        for n in range(DETAIL_LINES if draft is drafts[0] else 1)
    ]
    RefundLine.objects.bulk_create(lines, batch_size=BATCH)

    manager = User.objects.create(
        email="gestionnaire@example.fr", first_name="Jeanne", last_name="Lebreton", password=unusable
    )
    managed = Structure.objects.bulk_create(
        Structure(
            siret=_siret(900_000 + n),
            name=f"GAEC des Landes {n}",
            street="1 rue",
            postcode="35000",
            city="Rennes",
            created_by=manager,
        )
        for n in range(MANAGED_STRUCTURES)
    )
    Membership.objects.bulk_create(
        Membership(user=manager, structure=s, role=Membership.Role.MAIN_MANAGER) for s in managed
    )
    for start in range(0, pending, BATCH):
        users = User.objects.bulk_create(
            User(email=f"demandeur{n}@example.fr", first_name="Anne", last_name=f"D{n}", password=unusable)
            for n in range(start, min(start + BATCH, pending))
        )
        AttachmentRequest.objects.bulk_create(
            AttachmentRequest(requester=user, structure=managed[(start + i) % MANAGED_STRUCTURES])
            for i, user in enumerate(users)
        )
    with connection.cursor() as cursor:
        # What autovacuum does after a bulk load: statistics and the visibility map for index-only scans.
        cursor.execute("VACUUM ANALYZE")
    return BenchData(firm_user=firm_user, manager=manager, detail_request_id=drafts[0].pk, clients=structures)
