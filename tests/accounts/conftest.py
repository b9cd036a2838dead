import html

import pytest
from django.utils import timezone

from tests.factories import TEST_PASSWORD, UserFactory
from tests.mails import mailed_code, mailed_path

__all__ = ["SIGNUP", "flat", "mailed_code", "mailed_path", "page"]

SIGNUP = {
    "action": "create",
    "email": "anne.martin@example.fr",
    "last_name": "Martin",
    "first_name": "Anne",
    "phone": "",
    "mobile": "",
    "contact_email": "",
    "accept_terms": "on",
    "captcha_0": "key",
    "captcha_1": "passed",
}


@pytest.fixture
def active_user(db):
    return UserFactory(
        email="luc.roux@example.fr", last_name="Roux", first_name="Luc", activated_at=timezone.now()
    )


@pytest.fixture
def password():
    return TEST_PASSWORD


def flat(text: str) -> str:
    """Text as a reader sees it: entities decoded, white space folded (mails wrap their lines)."""
    return " ".join(html.unescape(text).split())


def page(response) -> str:
    return flat(response.content.decode())
