import html
import re

import pytest
from django.core import mail
from django.utils import timezone

from tests.factories import TEST_PASSWORD, UserFactory

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


def mailed_path(pattern: str) -> str:
    for message in reversed(mail.outbox):
        found = re.search(r"https?://[^/\s]+(" + pattern + r"[^\s]*)", message.body)
        if found:
            return found.group(1)
    raise AssertionError(f"no mail links to {pattern}")


def mailed_code() -> str:
    for message in reversed(mail.outbox):
        found = re.search(r"Votre code de connexion est : (\d{6})", message.body)
        if found:
            return found.group(1)
    raise AssertionError("no code mailed")


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
