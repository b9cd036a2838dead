import pytest
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.test import Client

from accounts.models import User
from tests.accounts.conftest import SIGNUP, mailed_path, page

pytestmark = pytest.mark.django_db

NEW = "Recolte-Automne-88!"


def ask_reset(client, email, callbacks):
    with callbacks(execute=True):
        return client.post("/compte/mot-de-passe-oublie/", {"email": email})


def test_known_and_unknown_addresses_get_the_same_answer(
    client, active_user, django_capture_on_commit_callbacks
):
    known = ask_reset(client, active_user.email, django_capture_on_commit_callbacks)
    unknown = ask_reset(client, "personne@example.fr", django_capture_on_commit_callbacks)
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == "/"
    assert page(Client().get("/")) == page(Client().get("/"))
    assert [m.to for m in mail.outbox] == [[active_user.email]]
    known_page = page(client.get("/"))
    assert "Si un compte existe avec cette adresse" in known_page


def test_reset_link_sets_a_new_password_signs_out_other_sessions_and_does_not_sign_in(
    client, active_user, django_capture_on_commit_callbacks
):
    other = Client()
    other.force_login(active_user)
    assert other.get("/compte/mon-compte/").status_code == 200

    ask_reset(client, active_user.email, django_capture_on_commit_callbacks)
    path = mailed_path("/compte/reinitialiser/")
    response = client.post(path, {"new_password1": NEW, "new_password2": NEW})
    assert response["Location"] == "/compte/connexion/"
    active_user.refresh_from_db()
    assert active_user.check_password(NEW)
    assert SESSION_KEY not in client.session
    assert other.get("/compte/mon-compte/").status_code == 302  # the other session ended
    assert client.get(path).status_code == 410


def test_reset_for_a_never_activated_account_sends_an_activation_link(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/compte/creer/", SIGNUP)
    mail.outbox.clear()
    ask_reset(client, SIGNUP["email"], django_capture_on_commit_callbacks)
    path = mailed_path("/compte/activer/")
    client.post(path, {"new_password1": NEW, "new_password2": NEW})
    user = User.objects.get(email=SIGNUP["email"])
    assert user.is_active and user.activated_at


def test_deactivated_account_gets_no_reset_mail(client, active_user, django_capture_on_commit_callbacks):
    User.objects.filter(pk=active_user.pk).update(is_active=False)
    response = ask_reset(client, active_user.email, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert mail.outbox == []


@pytest.mark.parametrize("email", ["", "pas-une-adresse", "a" * 300 + "@x.fr", "<script>@x.fr"])
def test_bad_address_gets_a_message(client, email):
    response = client.post("/compte/mot-de-passe-oublie/", {"email": email})
    assert response.status_code == 200
    assert "errorlist" in response.text


def test_reset_is_rate_limited_per_address_without_mail(
    client, active_user, django_capture_on_commit_callbacks
):
    for _ in range(5):
        ask_reset(client, active_user.email, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    response = client.post(
        "/compte/mot-de-passe-oublie/", {"email": active_user.email}, REMOTE_ADDR="192.0.2.99"
    )
    assert response.status_code == 429
    assert mail.outbox == []
