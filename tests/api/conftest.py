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


# The refund tests' farm, farmer, bank details and a day when the 2023 campaign is open.
from tests.reimbursements.conftest import bank_account, farm, farmer, spring_2025  # noqa: E402, F401
