"""« Mon compte » → « Accès API »: create, show once, list, revoke; revoked by deactivation and reset."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.models import AccountLink, ApiToken
from tests.api.conftest import bearer, make_token
from tests.conftest import verify_session
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def user():
    return UserFactory()


def create(client, **data):
    form = {
        "name": "Mon logiciel",
        "scope": "read",
        "expires_on": (timezone.localdate() + timedelta(days=90)).isoformat(),
    }
    form.update(data)
    return client.post(reverse("accounts:api_tokens"), form)


def test_creating_a_token_shows_its_secret_once_stores_only_a_hash_and_mails_the_owner(
    client, user, django_capture_on_commit_callbacks, mailoutbox
):
    verify_session(client, user)
    with django_capture_on_commit_callbacks(execute=True):
        response = create(client)
    assert response.status_code == 302
    page = client.get(response["Location"])
    token = ApiToken.objects.get(user=user)
    secret = page.context["secret"]
    assert secret.startswith("chorus_") and secret.encode() in page.content
    assert token.secret_hash == ApiToken.hash_secret(secret) and secret not in token.secret_hash
    assert token.scope == "read" and token.name == "Mon logiciel"
    # Shown once: the page does not show it again.
    again = client.get(reverse("accounts:api_token_created"))
    assert again.status_code == 302 and secret.encode() not in client.get(again["Location"]).content
    assert len(mailoutbox) == 1 and "Mon logiciel" in mailoutbox[0].subject
    assert secret not in mailoutbox[0].body


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "  "}, "name", "Ce champ est obligatoire."),
        ({"scope": "admin"}, "scope", "Sélectionnez un choix valide"),
        ({"expires_on": "demain"}, "expires_on", "Saisissez une date valide"),
        ({"expires_on": "2020-01-01"}, "expires_on", "un an au plus"),
        (
            {"expires_on": (timezone.localdate() + timedelta(days=366)).isoformat()},
            "expires_on",
            "un an au plus",
        ),
    ],
)
def test_bad_input_is_refused_next_to_the_field_and_the_rest_is_kept(client, user, data, field, message):
    verify_session(client, user)
    response = create(
        client, name=data.get("name", "Gardé"), **{k: v for k, v in data.items() if k != "name"}
    )
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    if field != "name":
        assert 'value="Gardé"' in response.content.decode()
    assert not ApiToken.objects.exists()


def test_revoking_a_token_stops_it_at_once(client, user, api_get):
    secret = make_token(user)
    token = ApiToken.objects.get(user=user)
    verify_session(client, user)
    assert api_get("/structures", secret).status_code == 200
    response = client.post(reverse("accounts:api_token_revoke", args=[token.pk]))
    assert response.status_code == 302
    client.logout()
    assert api_get("/structures", secret).status_code == 401


def test_nobody_can_revoke_someone_elses_token(client, user):
    make_token(user)
    token = ApiToken.objects.get(user=user)
    verify_session(client, UserFactory())
    assert client.post(reverse("accounts:api_token_revoke", args=[token.pk])).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_the_list_shows_name_start_scope_and_last_use_but_never_the_secret(client, user, api_get):
    secret = make_token(user)
    api_get("/structures", secret)
    verify_session(client, user)
    page = client.get(reverse("accounts:api_tokens")).content.decode()
    assert "Logiciel comptable" in page and secret[:13] in page and secret not in page
    assert "Lecture et écriture" in page and "Jamais" not in page


def test_deactivating_the_account_revokes_its_tokens(user, client, api_get):
    secret = make_token(user)
    services.user_deactivate(user=user)
    assert api_get("/structures", secret).status_code == 401
    assert ApiToken.objects.get(user=user).revoked_at is not None


def test_resetting_the_password_revokes_every_token(user, client, api_get):
    secret = make_token(user)
    AccountLink.objects.create(
        user=user, purpose=AccountLink.Purpose.PASSWORD_RESET, key_hash=AccountLink.hash_key("k" * 40)
    )
    services.account_link_set_password(
        key="k" * 40, purposes={AccountLink.Purpose.PASSWORD_RESET}, password="Un-Nouveau-Mot-2026!"
    )
    assert api_get("/structures", secret).status_code == 401


def test_an_expired_token_is_refused(user, api_get, client):
    secret = make_token(user)
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        response = api_get("/structures", secret)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 401


def test_the_api_cannot_reach_account_pages_with_a_token(user, client):
    """A token acts only on the API: account pages ignore it and ask to sign in."""
    secret = make_token(user)
    for name in ("accounts:profile", "accounts:api_tokens", "accounts:password_change", "accounts:factors"):
        response = client.get(reverse(name), **bearer(secret))
        assert response.status_code == 302 and reverse("accounts:login") in response["Location"]
