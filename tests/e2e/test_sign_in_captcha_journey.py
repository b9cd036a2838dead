"""After many wrong passwords on an address, its owner is asked for a captcha, never locked out (issue 12)."""

import pytest
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.a11y import assert_accessible
from tests.factories import TEST_PASSWORD, UserFactory
from tests.mails import mailed_code

pytestmark = pytest.mark.django_db(transaction=True)


def test_owner_passes_the_captcha_after_an_attack_on_the_address_and_signs_in(live_server, page):
    user = UserFactory(email="luc.roux@example.fr", activated_at=timezone.now())
    attacker = Client()
    for n in range(5):
        attacker.post(
            "/compte/connexion/",
            {"username": user.email, "password": "Faux-2024!"},
            REMOTE_ADDR=f"198.51.100.{n + 1}",
        )

    page.goto(live_server.url + "/compte/connexion/")
    page.get_by_label("Adresse électronique de connexion").fill(user.email)
    page.get_by_label("Mot de passe").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_text("Pour protéger ce compte")).to_be_visible()
    expect(page.get_by_label("Adresse électronique de connexion")).to_have_value(user.email)
    assert_accessible(page)

    page.get_by_label("Mot de passe").fill(TEST_PASSWORD)
    page.get_by_label("Recopiez les caractères de l'image").fill("passed")
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Saisissez le code reçu par courriel")
    page.get_by_label("Code reçu par courriel").fill(mailed_code())
    page.get_by_role("button", name="Valider").click()
    expect(page.get_by_role("button", name=f"{user.first_name} {user.last_name}")).to_be_visible()
    assert_accessible(page)
