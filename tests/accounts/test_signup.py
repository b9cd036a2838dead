import pytest
from django.core import mail

from accounts.models import AccountLink, User
from tests.accounts.conftest import SIGNUP, flat, mailed_path, page

pytestmark = pytest.mark.django_db


def post_signup(client, django_capture_on_commit_callbacks, **changes):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post("/compte/creer/", {**SIGNUP, **changes})


def test_signup_creates_an_inactive_account_and_mails_a_60_minute_link(
    client, django_capture_on_commit_callbacks
):
    response = post_signup(client, django_capture_on_commit_callbacks, email="Anne.Martin@Example.FR")
    assert response.status_code == 302
    assert response["Location"] == "/compte/creer/message-envoye/"
    user = User.objects.get()
    assert user.email == "anne.martin@example.fr"
    assert not user.is_active and user.activated_at is None and not user.has_usable_password()
    assert [m.to for m in mail.outbox] == [["anne.martin@example.fr"]]
    assert "60 minutes" in mail.outbox[0].body
    assert mailed_path("/compte/activer/").startswith("/compte/activer/")
    summary = client.get(response["Location"])
    assert "« anne.martin@example.fr »" in summary.text
    assert "60 minutes" in summary.text
    assert "Courriers indésirables" in summary.text
    assert "Mot de passe oublié ?" in summary.text


def test_required_fields_are_marked_with_a_red_asterisk_and_text(client):
    page = client.get("/compte/creer/").text
    assert (
        page.count('class="fr-required" aria-hidden="true">*</span><span class="fr-sr-only"> (obligatoire)')
        >= 5
    )
    assert "Valider le Captcha" in page
    assert "Créer mon compte" in page
    assert "Informations personnelles" in page


def test_signup_with_a_known_address_creates_nothing_shows_the_same_page_and_warns_the_owner(
    client, django_capture_on_commit_callbacks, active_user
):
    first = post_signup(client, django_capture_on_commit_callbacks, email="nouvelle@example.fr")
    mail.outbox.clear()
    second = post_signup(client, django_capture_on_commit_callbacks, email="LUC.ROUX@example.fr")

    assert second.status_code == first.status_code == 302
    assert second["Location"] == first["Location"]
    assert User.objects.filter(email="luc.roux@example.fr").count() == 1
    assert not AccountLink.objects.filter(user=active_user).exists()
    assert [m.to for m in mail.outbox] == [["luc.roux@example.fr"]]
    assert "Un compte existe déjà" in flat(mail.outbox[0].body)
    assert "Mot de passe oublié ?" in flat(mail.outbox[0].body)


@pytest.mark.parametrize(
    ("changes", "field_message"),
    [
        ({"email": ""}, "Saisissez votre adresse électronique de connexion."),
        ({"email": "pas-une-adresse"}, "Saisissez une adresse électronique valide"),
        ({"email": "a" * 250 + "@example.fr"}, "254 caractères"),
        ({"last_name": ""}, "Saisissez votre nom."),
        ({"first_name": "<script>alert(1)</script>"}, "ne peut contenir que des lettres"),
        ({"last_name": "x" * 151}, "150 caractères"),
        ({"phone": "abc"}, "Saisissez un numéro de téléphone"),
        ({"contact_email": "nope"}, "Saisissez une adresse électronique valide"),
        ({"accept_terms": ""}, "Vous devez accepter les conditions générales d'utilisation"),
        ({"captcha_1": "mauvais"}, "ne correspondent pas à l'image"),
    ],
)
def test_bad_input_gets_a_message_beside_the_field_and_keeps_the_rest(client, changes, field_message):
    response = client.post("/compte/creer/", {**SIGNUP, **changes})
    assert response.status_code == 200
    assert field_message in page(response)
    assert 'aria-invalid="true"' in response.text
    assert "<script>alert(1)</script>" not in response.text
    if "first_name" not in changes:
        assert 'value="Anne"' in response.text
    assert User.objects.count() == 0


def test_valider_le_captcha_answers_in_place_keeping_what_was_typed(client):
    response = client.post("/compte/creer/", {**SIGNUP, "action": "captcha", "accept_terms": ""})
    assert "Captcha validé" in response.text
    assert 'value="anne.martin@example.fr"' in response.text
    # Once validated, the captcha is not asked again for this sign-up.
    response = client.post("/compte/creer/", {**SIGNUP, "captcha_1": ""})
    assert response.status_code == 302


def test_wrong_captcha_keeps_input_and_shows_a_new_image(client):
    response = client.post("/compte/creer/", {**SIGNUP, "action": "captcha", "captcha_1": "zzzz"})
    assert "ne correspondent pas à l'image" in page(response)
    assert 'value="Martin"' in response.text
    assert "Captcha validé" not in response.text


def test_new_image_keeps_what_was_typed_without_errors(client):
    response = client.post("/compte/creer/", {**SIGNUP, "action": "new_image", "last_name": ""})
    assert 'value="anne.martin@example.fr"' in response.text
    assert "errorlist" not in response.text


def test_captcha_offers_an_audio_version_when_flite_is_installed(client, settings):
    from captcha.conf import settings as captcha_settings

    if not captcha_settings.CAPTCHA_FLITE_PATH:
        pytest.skip("flite is not installed: no audio captcha")
    assert "Écouter les caractères (version audio)" in client.get("/compte/creer/").text


def test_summary_page_without_a_sign_up_goes_back_to_the_form(client):
    assert client.get("/compte/creer/message-envoye/")["Location"] == "/compte/creer/"


def test_sign_up_is_rate_limited_per_address_without_sending_mail(client, django_capture_on_commit_callbacks):
    for _ in range(3):
        post_signup(client, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    response = post_signup(client, django_capture_on_commit_callbacks)
    assert response.status_code == 429
    assert "Trop de tentatives" in response.text
    assert mail.outbox == []


def test_sign_up_is_rate_limited_per_ip(client, django_capture_on_commit_callbacks):
    for n in range(10):
        post_signup(client, django_capture_on_commit_callbacks, email=f"user{n}@example.fr")
    response = post_signup(client, django_capture_on_commit_callbacks, email="encore@example.fr")
    assert response.status_code == 429
    assert not User.objects.filter(email="encore@example.fr").exists()
