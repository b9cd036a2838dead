"""« Facteurs d'authentification » in a browser: enrol an authenticator app, then sign in with it."""

import re
import time

import pyotp
import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from tests.e2e.a11y import assert_accessible
from tests.factories import TEST_PASSWORD, MembershipFactory

pytestmark = pytest.mark.django_db(transaction=True)


def heading(page, level=1):
    return page.get_by_role("heading", level=level)


def test_user_enrols_an_authenticator_app_then_signs_in_with_it(live_server, page, sign_in):
    user = sign_in(
        MembershipFactory(
            user__first_name="Jeanne", user__last_name="Lebreton", user__email="jeanne.lebreton@example.fr"
        ).user
    )
    page.goto(live_server.url + reverse("home"))
    header = page.get_by_role("navigation", name="Accès au compte")
    header.get_by_role("button", name="Jeanne Lebreton").click()
    header.get_by_role("link", name="Mon compte").click()
    page.get_by_role("navigation", name="Mon compte").get_by_role(
        "link", name="Facteurs d'authentification"
    ).click()
    expect(heading(page, 2)).to_have_text("Facteurs d'authentification")
    expect(page.get_by_text("Par défaut")).to_be_visible()
    assert_accessible(page)

    # Enrolment: a QR code drawn on the server, the secret as text, confirmed by a first code.
    page.get_by_role("link", name="Ajouter une application d'authentification").click()
    expect(heading(page, 2)).to_have_text("Ajouter une application d'authentification")
    expect(page.locator(".fr-qr svg")).to_be_visible()
    assert_accessible(page)
    secret = page.locator("#cle-secrete").inner_text().replace(" ", "")
    phone = pyotp.TOTP(secret)
    code_field = page.get_by_label("Code à 6 chiffres affiché par l'application")
    code_field.fill("12345")
    page.get_by_role("button", name="Ajouter l'application").click()
    expect(page.get_by_text("Le code de l'application comporte 6 chiffres.")).to_be_visible()
    assert_accessible(page)
    code_field.fill(phone.now())
    page.get_by_role("button", name="Ajouter l'application").click()

    # The 10 backup codes, shown once.
    expect(heading(page, 2)).to_have_text("Vos codes de secours")
    codes = page.get_by_role("list", name="Codes de secours").get_by_role("listitem")
    expect(codes).to_have_count(10)
    expect(codes.first).to_have_text(re.compile(r"^[a-z2-7]{4}-[a-z2-7]{4}$"))
    backup_codes = codes.all_inner_texts()
    assert_accessible(page)
    page.get_by_role("link", name="J'ai noté mes codes").click()
    expect(page.get_by_text("Active", exact=True)).to_be_visible()
    expect(page.get_by_text("Il vous reste 10 codes de secours")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text(secret[:8])
    assert_accessible(page)
    assert TOTPDevice.objects.get(user=user).confirmed

    # Sign out, then sign in: password, then the factor of one's choice.
    header.get_by_role("button", name="Jeanne Lebreton").click()
    header.get_by_role("button", name="Se déconnecter").click()
    header.get_by_role("link", name="Se connecter").click()
    page.get_by_label("Adresse électronique de connexion").fill(user.email)
    page.get_by_label("Mot de passe").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(heading(page)).to_have_text("Confirmer votre connexion")
    expect(page.get_by_label("Code reçu par courriel")).to_be_checked()
    assert_accessible(page)
    page.get_by_label("Application d'authentification").check()
    page.get_by_role("button", name="Continuer").click()
    expect(heading(page)).to_have_text("Saisissez le code de votre application")
    assert_accessible(page)
    # The phone shows the next code already (one step ahead is accepted): never the enrolment code again.
    page.get_by_label("Application d'authentification").fill(phone.at(time.time() + 30))
    page.get_by_role("button", name="Valider").click()
    expect(header.get_by_role("button", name="Jeanne Lebreton")).to_be_visible()
    expect(heading(page)).to_contain_text("Remboursement de la taxe")
    assert_accessible(page)

    # Regenerate the backup codes, confirmed by a backup code; then remove the app, confirmed by a new one.
    header.get_by_role("button", name="Jeanne Lebreton").click()
    header.get_by_role("link", name="Mon compte").click()
    page.get_by_role("link", name="Facteurs d'authentification").click()
    page.get_by_role("link", name="Générer de nouveaux codes de secours").click()
    expect(heading(page, 2)).to_have_text("Générer de nouveaux codes de secours")
    assert_accessible(page)
    page.get_by_label("Code de secours").check()
    page.get_by_label("Code actuel").fill("zzzz-zzzz")
    page.get_by_role("button", name="Générer de nouveaux codes").click()
    expect(page.get_by_text("Ce code de secours est incorrect ou a déjà servi.")).to_be_visible()
    expect(page.get_by_label("Code de secours")).to_be_checked()
    assert_accessible(page)
    page.get_by_label("Code actuel").fill(backup_codes[0])
    page.get_by_role("button", name="Générer de nouveaux codes").click()
    expect(heading(page, 2)).to_have_text("Vos codes de secours")
    new_codes = page.get_by_role("list", name="Codes de secours").get_by_role("listitem").all_inner_texts()
    assert len(new_codes) == 10 and not set(new_codes) & set(backup_codes)
    page.get_by_role("link", name="J'ai noté mes codes").click()

    page.get_by_role("link", name="Retirer l'application d'authentification").click()
    expect(heading(page, 2)).to_have_text("Retirer : Application d'authentification")
    assert_accessible(page)
    page.get_by_label("Code de secours").check()
    page.get_by_label("Code actuel").fill(new_codes[0])
    page.get_by_role("button", name="Retirer", exact=True).click()
    expect(page.get_by_text("« Application d'authentification » est retiré de votre compte.")).to_be_visible()
    expect(page.get_by_role("link", name="Ajouter une application d'authentification")).to_be_visible()
    assert_accessible(page)
    assert not TOTPDevice.objects.filter(user=user).exists()
