from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.api_tokens import api_token_create
from accounts.models import ApiToken


def make_token(user, scope=ApiToken.Scope.WRITE, days=30):
    _, secret = api_token_create(
        user=user,
        name="Logiciel comptable",
        scope=scope,
        expires_on=timezone.localdate() + timedelta(days=days),
    )
    return secret


def bearer(secret):
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


@pytest.fixture
def api_get(client):
    def get(path, secret=None, **params):
        return client.get(f"/api/v1{path}", params, **(bearer(secret) if secret else {}))

    return get


@pytest.fixture
def api_post(client):
    def post(path, secret=None, headers=None, data=None):
        extra = bearer(secret) if secret else {}
        extra.update(
            {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in (headers or {}).items()}
        )
        return client.post(f"/api/v1{path}", data or {}, content_type="application/json", **extra)

    return post


def bulk_attach(user, count: int, *, seed: int = 600_000) -> list:
    """`count` structures the user is attached to, each with a bank account, in a few bulk inserts: enough to
    measure list endpoints at 1,000 rows in a test."""
    from structures.models import BankAccount, Membership, Structure
    from tests.factories import valid_siret

    start = seed + Structure.objects.count()
    structures = Structure.objects.bulk_create(
        Structure(
            siret=valid_siret(start + n),
            name=f"Ferme {start + n}",
            street="1 rue des Champs",
            postcode="35000",
            city="Rennes",
            created_by=user,
        )
        for n in range(count)
    )
    Membership.objects.bulk_create(Membership(user=user, structure=structure) for structure in structures)
    BankAccount.objects.bulk_create(
        BankAccount(
            structure=structure,
            label="Compte courant",
            holder=structure.name,
            iban="FR7630006000011234567890189",
            bic="AGRIFRPP",
            created_by=user,
        )
        for structure in structures
    )
    return structures


def bulk_requests(user, count: int) -> None:
    """`count` refund requests the user can see, one per structure and campaign year."""
    from reimbursements.models import Campaign, RefundRequest

    campaigns = list(Campaign.objects.order_by("year"))
    structures = bulk_attach(user, -(-count // len(campaigns)))
    RefundRequest.objects.bulk_create(
        RefundRequest(
            structure=structures[n // len(campaigns)], campaign=campaigns[n % len(campaigns)], created_by=user
        )
        for n in range(count)
    )


def bulk_attachment_requests(user, count: int) -> None:
    """`count` pending attachment requests of the user, to structures they are not attached to."""
    from attachments.models import AttachmentRequest
    from structures.models import Membership

    structures = bulk_attach(user, count, seed=700_000)
    Membership.objects.filter(user=user, structure__in=structures).delete()
    AttachmentRequest.objects.bulk_create(
        AttachmentRequest(requester=user, structure=structure) for structure in structures
    )


# The refund tests' farm, farmer, bank details and a day when the 2023 campaign is open.
from tests.reimbursements.conftest import bank_account, farm, farmer, spring_2025  # noqa: E402, F401
