import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from accounts.models import AccountLink, User
from tests.e2e.a11y import assert_accessible
from tests.mails import mailed_code, mailed_path

pytestmark = pytest.mark.django_db(transaction=True)

GOOD_PASSWORD = "Moisson-Colza-2024!"
NEW_PASSWORD = "Semis-Printemps-77?"


def sign_in(page, base, email, password):
    page.goto(base + "/compte/connexion/")
    assert_accessible(page)
    page.get_by_label("Adresse électronique de connexion").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Saisissez le code reçu par courriel")
    expect(page.get_by_text(email)).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Code reçu par courriel").fill(mailed_code())
    page.get_by_role("button", name="Valider").click()


def test_create_account_activate_sign_in_sign_out_and_reset_password(live_server, page):
    base = live_server.url
    page.goto(base)
    page.get_by_role("navigation", name="Accès au compte").get_by_role("link", name="Créer un compte").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Créer un compte")
    assert_accessible(page)

    page.get_by_label("Adresse électronique de connexion").fill("Jeanne.Lebreton@Example.fr")
    page.get_by_role("textbox", name=re.compile(r"^Nom\b")).fill("Lebreton")
    page.get_by_label("Prénom").fill("Jeanne")
    page.get_by_label("Mobile").fill("06 12 34 56 78")
    page.get_by_label("Recopiez les caractères de l'image").fill("passed")
    page.get_by_role("button", name="Valider le Captcha").click()
    expect(page.get_by_text("Captcha validé")).to_be_visible()
    # What was typed is still there.
    expect(page.get_by_label("Prénom")).to_have_value("Jeanne")
    assert_accessible(page)

    page.get_by_role("button", name="Créer mon compte").click()
    expect(page.get_by_text("Vous devez accepter les conditions générales d'utilisation")).to_be_visible()
    expect(page.get_by_role("textbox", name=re.compile(r"^Nom\b"))).to_have_value("Lebreton")
    assert_accessible(page)
    page.get_by_label("J'accepte les conditions générales d'utilisation").check()
    page.get_by_role("button", name="Créer mon compte").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Activez votre compte")
    expect(page.get_by_text("« jeanne.lebreton@example.fr »")).to_be_visible()
    expect(page.get_by_text("valable 60 minutes")).to_be_visible()
    assert_accessible(page)

    page.goto(base + mailed_path("/compte/activer/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Choisissez votre mot de passe")
    rules = page.locator("#password-rules")
    expect(rules).to_contain_text("12 caractères au minimum")
    assert_accessible(page)
    page.get_by_role("textbox", name=re.compile(r"^Mot de passe\b")).fill("court")
    expect(rules.locator("li[data-rule=length]")).not_to_have_class(re.compile("fr-rule--met"))
    expect(rules.locator("li[data-rule=lower]")).to_have_class(re.compile("fr-rule--met"))
    page.get_by_label("Confirmation du mot de passe").fill("court")
    page.get_by_role("button", name="Soumettre").click()
    expect(page.get_by_text("Ce mot de passe est trop court")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("textbox", name=re.compile(r"^Mot de passe\b")).fill(GOOD_PASSWORD)
    expect(rules.locator("li.fr-rule--met")).to_have_count(5)
    page.get_by_label("Confirmation du mot de passe").fill(GOOD_PASSWORD)
    page.get_by_role("button", name="Soumettre").click()
    expect(page.get_by_text("Votre compte est activé")).to_be_visible()

    sign_in(page, base, "jeanne.lebreton@example.fr", GOOD_PASSWORD)
    # First sign-in, attached to no structure yet: the guide's two-choice window (structures app).
    first_login = page.get_by_role("dialog", name="Rattacher votre compte à une structure")
    first_login.get_by_role("button", name="Fermer").click()
    expect(first_login).to_be_hidden()
    menu = page.get_by_role("navigation", name="Accès au compte")
    expect(menu.get_by_text("Jeanne Lebreton")).to_be_visible()
    assert_accessible(page)

    menu.get_by_text("Jeanne Lebreton").click()
    menu.get_by_role("button", name="Se déconnecter").click()
    expect(menu.get_by_role("link", name="Se connecter")).to_be_visible()

    menu.get_by_role("link", name="Se connecter").click()
    page.get_by_role("link", name="Mot de passe oublié ?").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mot de passe oublié ?")
    assert_accessible(page)
    page.get_by_label("Adresse électronique de connexion").fill("jeanne.lebreton@example.fr")
    page.get_by_role("button", name="Soumettre").click()
    expect(page).to_have_url(base + "/")
    expect(page.get_by_text("Si un compte existe avec cette adresse")).to_be_visible()
    assert_accessible(page)

    page.goto(base + mailed_path("/compte/reinitialiser/"))
    page.get_by_role("textbox", name=re.compile(r"^Mot de passe\b")).fill(NEW_PASSWORD)
    page.get_by_label("Confirmation du mot de passe").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Soumettre").click()
    expect(page.get_by_text("Votre mot de passe est modifié")).to_be_visible()

    sign_in(page, base, "jeanne.lebreton@example.fr", NEW_PASSWORD)
    expect(
        page.get_by_role("navigation", name="Accès au compte").get_by_text("Jeanne Lebreton")
    ).to_be_visible()


def test_expired_activation_link_shows_the_reset_path(live_server, page, client):
    client.post(
        "/compte/creer/",
        {
            "action": "create",
            "email": "paul@example.fr",
            "last_name": "Petit",
            "first_name": "Paul",
            "accept_terms": "on",
            "captcha_0": "x",
            "captcha_1": "passed",
        },
    )
    path = mailed_path("/compte/activer/")
    link = AccountLink.objects.get(user__email="paul@example.fr")
    link.created_at -= timedelta(minutes=61)
    link.save()

    page.goto(live_server.url + path)
    expect(page.get_by_role("heading", level=1)).to_have_text("Échec d'initialisation du mot de passe")
    expect(page.get_by_text("Ce lien a expiré")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("main").get_by_role("link", name="Mot de passe oublié ?").click()
    page.get_by_label("Adresse électronique de connexion").fill("paul@example.fr")
    page.get_by_role("button", name="Soumettre").click()
    page.goto(live_server.url + mailed_path("/compte/activer/"))
    page.get_by_role("textbox", name=re.compile(r"^Mot de passe\b")).fill(GOOD_PASSWORD)
    page.get_by_label("Confirmation du mot de passe").fill(GOOD_PASSWORD)
    page.get_by_role("button", name="Soumettre").click()
    expect(page.get_by_text("Votre compte est activé")).to_be_visible()
    assert User.objects.get(email="paul@example.fr").activated_at is not None
