from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from accounts.models import AccountLink, User
from tests.accounts.conftest import SIGNUP, mailed_path, page

pytestmark = pytest.mark.django_db

GOOD = "Tracteur-Vert-2024!"


@pytest.fixture
def activation_path(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/compte/creer/", SIGNUP)
    return mailed_path("/compte/activer/")


def choose(client, path, password=GOOD, confirm=None):
    return client.post(path, {"new_password1": password, "new_password2": confirm or password})


def test_link_opens_choose_password_with_the_rules_shown_before_typing(client, activation_path):
    response = client.get(activation_path)
    text = page(response)
    assert "Choisissez votre mot de passe" in text
    for rule in [
        "12 caractères au minimum",
        "une lettre majuscule",
        "une lettre minuscule",
        "un chiffre",
        "un caractère spécial",
    ]:
        assert rule in text
    assert "Soumettre" in text


def test_soumettre_activates_the_account_without_signing_in(client, activation_path):
    response = choose(client, activation_path)
    assert response["Location"] == "/compte/connexion/"
    user = User.objects.get()
    assert user.is_active and user.activated_at is not None and user.check_password(GOOD)
    assert "_auth_user_id" not in client.session
    assert "Votre compte est activé" in page(client.get(response["Location"]))


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Court-1!", "trop court"),
        ("toutenminuscule-12!", "une lettre majuscule"),
        ("TOUTENMAJUSCULE-12!", "une lettre minuscule"),
        ("SansChiffre-Ici!", "un chiffre"),
        ("SansChiffre-Ici!１２", "un chiffre"),  # full-width digits are not the digits the rule shows
        ("SansSpecial12345", "un caractère spécial"),
        ("Anne.Martin-2024!", "ni votre adresse électronique, ni votre nom"),
        ("Martin-Champs-2024!", "ni votre adresse électronique, ni votre nom"),
        ("John!20130605at1753", "trop courant"),
    ],
)
def test_weak_passwords_are_refused_with_the_rule(client, activation_path, password, message):
    response = choose(client, activation_path, password)
    assert response.status_code == 200
    assert message in page(response)
    assert not User.objects.get().is_active


def test_mismatched_confirmation_is_refused(client, activation_path):
    response = choose(client, activation_path, GOOD, "Autre-Chose-2024!")
    assert "Les deux mots de passe ne correspondent pas" in page(response)


def test_link_still_works_at_59_minutes(client, activation_path):
    with time_machine.travel(timezone.now() + timedelta(minutes=59)):
        assert choose(client, activation_path).status_code == 302


def test_link_fails_at_61_minutes_with_the_reset_path(client, activation_path):
    with time_machine.travel(timezone.now() + timedelta(minutes=61)):
        response = client.get(activation_path)
    text = page(response)
    assert response.status_code == 410
    assert "Échec d'initialisation du mot de passe" in text
    assert "Ce lien a expiré" in text
    assert "valables 60 minutes" in text
    assert 'href="/compte/mot-de-passe-oublie/"' in response.text


def test_link_works_once_and_says_so_the_second_time(client, activation_path):
    choose(client, activation_path)
    response = client.get(activation_path)
    assert response.status_code == 410
    assert "Ce lien a déjà été utilisé" in page(response)
    assert choose(client, activation_path, "Autre-Chose-2024!").status_code == 410
    assert User.objects.get().check_password(GOOD)


@pytest.mark.parametrize("tamper", [lambda p: p[:-3] + "x/", lambda p: p.replace("/activer/", "/activer/zz")])
def test_altered_link_is_refused(client, activation_path, tamper):
    response = client.get(tamper(activation_path))
    assert response.status_code == 404
    assert "Ce lien n'est pas valide" in page(response)


def test_a_reset_link_cannot_be_used_as_an_activation_link(
    client, activation_path, active_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/compte/mot-de-passe-oublie/", {"email": active_user.email})
    reset_path = mailed_path("/compte/reinitialiser/")
    assert client.get(reset_path.replace("/reinitialiser/", "/activer/")).status_code == 404


def test_only_a_hash_of_the_key_is_stored(activation_path):
    key = activation_path.rstrip("/").rsplit("/", 1)[1]
    assert not AccountLink.objects.filter(key_hash=key).exists()
    assert AccountLink.objects.by_key(key).exists()


def test_admin_resends_activation_to_never_activated_accounts_only(
    admin_client, activation_path, active_user, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            "/admin/accounts/user/",
            {
                "action": "resend_activation",
                "_selected_action": [u.pk for u in User.objects.filter(is_superuser=False)],
            },
        )
    assert [m.to for m in mail.outbox] == [["anne.martin@example.fr"]]
