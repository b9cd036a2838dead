from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from tests.accounts.conftest import mailed_code, page

pytestmark = pytest.mark.django_db


@pytest.fixture
def at_code_step(client, active_user, password, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/compte/connexion/", {"username": active_user.email, "password": password})
    assert response["Location"] == "/compte/connexion/code/"
    return active_user


def send_code(client, code, callbacks):
    with callbacks(execute=True):
        return client.post("/compte/connexion/code/", {"action": "verify", "code": code})


def test_password_then_code_signs_in_and_changes_the_session_key_twice(
    client, active_user, password, django_capture_on_commit_callbacks
):
    client.get("/compte/connexion/")
    first_key = client.session.session_key
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/compte/connexion/", {"username": "LUC.ROUX@example.fr", "password": password})
    second_key = client.session.session_key
    assert second_key != first_key
    assert "_auth_user_id" not in client.session  # not signed in until the code passes

    code_page = page(client.get("/compte/connexion/code/"))
    assert "luc.roux@example.fr" in code_page
    assert "valable 10 minutes" in code_page
    assert mail.outbox[-1].to == ["luc.roux@example.fr"]

    response = send_code(client, mailed_code(), django_capture_on_commit_callbacks)
    assert response["Location"] == "/"
    assert client.session["_auth_user_id"] == str(active_user.pk)
    assert client.session.session_key not in {first_key, second_key}


def test_next_is_kept_through_the_code_step_but_only_on_this_site(
    client, active_user, password, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/compte/connexion/?next=/compte/mon-compte/",
            {"username": active_user.email, "password": password, "next": "/compte/mon-compte/"},
        )
    assert (
        send_code(client, mailed_code(), django_capture_on_commit_callbacks)["Location"]
        == "/compte/mon-compte/"
    )
    client.logout()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/compte/connexion/",
            {"username": active_user.email, "password": password, "next": "https://evil.example/"},
        )
    assert send_code(client, mailed_code(), django_capture_on_commit_callbacks)["Location"] == "/"


def test_code_page_without_a_password_step_goes_back_to_sign_in(client):
    assert client.get("/compte/connexion/code/")["Location"] == "/compte/connexion/"


@pytest.mark.parametrize(
    ("email", "pwd"),
    [("luc.roux@example.fr", "Mauvais-Mot-2024!"), ("inconnu@example.fr", "Mauvais-Mot-2024!")],
)
def test_wrong_password_and_unknown_address_get_the_same_answer(client, active_user, email, pwd):
    response = client.post("/compte/connexion/", {"username": email, "password": pwd})
    assert response.status_code == 200
    assert "Adresse électronique ou mot de passe incorrect" in page(response)
    assert "activez-le d'abord avec le lien reçu par courriel" in page(response)
    assert "Mot de passe oublié ?" in page(response)


def test_never_activated_account_cannot_sign_in(client, django_capture_on_commit_callbacks):
    from tests.accounts.conftest import SIGNUP

    client.post("/compte/creer/", SIGNUP)
    response = client.post("/compte/connexion/", {"username": SIGNUP["email"], "password": ""})
    assert response.status_code == 200
    response = client.post(
        "/compte/connexion/", {"username": SIGNUP["email"], "password": "Nimporte-Quoi-1!"}
    )
    assert "activez-le d'abord avec le lien reçu par courriel" in page(response)
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    "data", [{}, {"username": "pas-une-adresse", "password": "x"}, {"username": "a" * 300, "password": "x"}]
)
def test_sign_in_form_with_bad_input_gets_messages(client, data):
    response = client.post("/compte/connexion/", data)
    assert response.status_code == 200
    assert "errorlist" in response.text


def test_wrong_code_says_how_many_tries_are_left(client, at_code_step, django_capture_on_commit_callbacks):
    response = send_code(
        client, "000000" if mailed_code() != "000000" else "111111", django_capture_on_commit_callbacks
    )
    assert "Ce code est incorrect. Il vous reste 4 essais." in page(response)
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("code", ["", "12345", "abcdef", "1234567", "１２３４５６", "١٢٣٤٥٦"])
def test_malformed_code_gets_a_message(client, at_code_step, django_capture_on_commit_callbacks, code):
    response = send_code(client, code, django_capture_on_commit_callbacks)
    assert "errorlist" in response.text
    assert "_auth_user_id" not in client.session


def test_five_wrong_codes_void_the_code(client, at_code_step, django_capture_on_commit_callbacks):
    good = mailed_code()
    wrong = "000000" if good != "000000" else "111111"
    for _ in range(4):
        send_code(client, wrong, django_capture_on_commit_callbacks)
    response = send_code(client, wrong, django_capture_on_commit_callbacks)
    assert "ce code est annulé" in page(response)
    response = send_code(client, good, django_capture_on_commit_callbacks)
    assert "Ce code n'est plus valable" in page(response)
    assert "_auth_user_id" not in client.session


def test_code_expires_after_10_minutes(client, at_code_step, django_capture_on_commit_callbacks):
    code = mailed_code()
    with time_machine.travel(timezone.now() + timedelta(minutes=10, seconds=30)):
        response = send_code(client, code, django_capture_on_commit_callbacks)
    assert "Ce code a expiré" in page(response)


def test_code_works_at_9_minutes(client, at_code_step, django_capture_on_commit_callbacks):
    code = mailed_code()
    with time_machine.travel(timezone.now() + timedelta(minutes=9)):
        response = send_code(client, code, django_capture_on_commit_callbacks)
    assert response.status_code == 302


def test_code_is_single_use(client, at_code_step, password, django_capture_on_commit_callbacks):
    code = mailed_code()
    send_code(client, code, django_capture_on_commit_callbacks)
    client.logout()
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/compte/connexion/", {"username": at_code_step.email, "password": password})
    new_code = mailed_code()
    assert len([m for m in mail.outbox if "code de connexion" in m.subject]) == 2
    if new_code != code:
        response = send_code(client, code, django_capture_on_commit_callbacks)
        assert "Ce code est incorrect" in page(response)
    assert send_code(client, new_code, django_capture_on_commit_callbacks).status_code == 302


def test_renvoyer_un_code_voids_the_old_one_after_the_cooldown(
    client, at_code_step, django_capture_on_commit_callbacks
):
    old = mailed_code()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/compte/connexion/code/", {"action": "resend"}, follow=True)
    assert "Vous pourrez en demander un nouveau dans" in page(response)
    assert mailed_code() == old
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/compte/connexion/code/", {"action": "resend"}, follow=True)
        assert "Un nouveau code a été envoyé" in page(response)
        new = mailed_code()
        if new != old:
            assert "Ce code est incorrect" in page(send_code(client, old, django_capture_on_commit_callbacks))
        assert send_code(client, new, django_capture_on_commit_callbacks).status_code == 302


def test_sign_in_is_rate_limited_per_ip(client, active_user):
    for _ in range(60):
        client.post("/compte/connexion/", {"username": "x@example.fr", "password": "y"})
    response = client.post("/compte/connexion/", {"username": active_user.email, "password": "y"})
    assert response.status_code == 429


def test_many_failures_from_many_ips_never_lock_the_owner_out(
    client, active_user, password, django_capture_on_commit_callbacks
):
    """OWASP: an attacker who knows the address cannot lock the account; its owner, from a fresh IP, is asked
    for a captcha and then passes with the right password (the e-mailed code still follows)."""
    for n in range(100):
        client.post(
            "/compte/connexion/",
            {"username": active_user.email, "password": "Faux-2024!"},
            REMOTE_ADDR=f"198.51.{n // 50}.{n % 50 + 1}",
        )
    owner = {"username": active_user.email, "password": password}
    response = client.post("/compte/connexion/", owner, REMOTE_ADDR="203.0.113.200")
    assert response.status_code == 200
    assert "Pour protéger ce compte" in page(response)
    assert 'name="captcha_1"' in response.text
    assert active_user.email in response.text  # the typed address is kept
    assert "_auth_user_id" not in client.session
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/compte/connexion/",
            {**owner, "captcha_0": "key", "captcha_1": "passed"},
            REMOTE_ADDR="203.0.113.200",
        )
    assert response["Location"] == "/compte/connexion/code/"


def test_the_captcha_is_asked_before_the_password_is_checked(client, active_user):
    for n in range(10):
        client.post(
            "/compte/connexion/",
            {"username": active_user.email, "password": "Faux-2024!"},
            REMOTE_ADDR=f"198.51.100.{n + 1}",
        )
    # A wrong captcha: the password is not even tried, so the answer tells nothing about it.
    response = client.post(
        "/compte/connexion/",
        {"username": active_user.email, "password": "Faux-2024!", "captcha_0": "key", "captcha_1": "wrong"},
        REMOTE_ADDR="203.0.113.9",
    )
    assert "Les caractères saisis ne correspondent pas" in page(response)
    assert "Adresse électronique ou mot de passe incorrect" not in page(response)


def test_failed_sign_ins_are_limited_per_account_and_ip(client, active_user, password):
    captcha = {"captcha_0": "key", "captcha_1": "passed"}  # an attacker who solves captchas
    for _ in range(10):
        client.post(
            "/compte/connexion/",
            {"username": active_user.email, "password": "Faux-2024!", **captcha},
            REMOTE_ADDR="198.51.100.7",
        )
    owner = {"username": active_user.email, "password": password, **captcha}
    assert client.post("/compte/connexion/", owner, REMOTE_ADDR="198.51.100.7").status_code == 429
    # The same IP may still sign in to another account, and the owner from another IP.
    assert client.post("/compte/connexion/", owner, REMOTE_ADDR="198.51.100.8").status_code == 302


def test_code_checks_are_rate_limited(client, at_code_step, django_capture_on_commit_callbacks):
    for _ in range(60):
        client.post("/compte/connexion/code/", {"action": "verify", "code": "abc"})
    assert client.post("/compte/connexion/code/", {"action": "verify", "code": "123456"}).status_code == 429


def test_signed_in_user_visiting_sign_in_goes_home(client, active_user):
    client.force_login(active_user)
    assert client.get("/compte/connexion/")["Location"] == "/"


def sign_in_again(client, user, password, callbacks):
    with callbacks(execute=True):
        return client.post("/compte/connexion/", {"username": user.email, "password": password})


def wrong_code_for(good: str) -> str:
    return "000000" if good != "000000" else "111111"


def test_wrong_codes_are_capped_per_account_across_codes_then_the_owner_is_mailed(
    client, at_code_step, password, django_capture_on_commit_callbacks
):
    """Five wrong tries void a code; signing in again gives a new code, but not five more guesses each time:
    ten wrong codes an hour per account, then a pause, and the owner is told."""
    callbacks = django_capture_on_commit_callbacks
    start = timezone.now()
    for round_ in range(2):
        with time_machine.travel(start + timedelta(seconds=61 * round_), tick=False):
            if round_:
                sign_in_again(client, at_code_step, password, callbacks)
            for _ in range(5):
                response = send_code(client, wrong_code_for(mailed_code()), callbacks)
    assert "Trop de codes erronés" in page(response)
    paused_mails = [m for m in mail.outbox if "Connexion suspendue" in m.subject]
    assert [m.to for m in paused_mails] == [[at_code_step.email]]
    assert "changez votre mot de passe" in " ".join(paused_mails[0].body.split())

    # A third sign-in gets no new guesses: even the right code is refused during the pause.
    with time_machine.travel(start + timedelta(seconds=200), tick=False):
        sign_in_again(client, at_code_step, password, callbacks)
        response = send_code(client, mailed_code(), callbacks)
    assert "Trop de codes erronés" in page(response)
    assert "_auth_user_id" not in client.session

    # After the pause, the owner signs in with a fresh code.
    with time_machine.travel(start + timedelta(hours=1, minutes=2), tick=False):
        sign_in_again(client, at_code_step, password, callbacks)
        assert send_code(client, mailed_code(), callbacks).status_code == 302
    assert client.session["_auth_user_id"] == str(at_code_step.pk)
    assert len([m for m in mail.outbox if "Connexion suspendue" in m.subject]) == 1


def test_sign_in_codes_count_in_the_hourly_resend_limit(
    client, active_user, password, django_capture_on_commit_callbacks, settings
):
    # No cooldown, so the twelve sign-ins happen within a second, inside one rate-limit window.
    settings.OTP_EMAIL_COOLDOWN_DURATION = 0
    for _ in range(12):
        response = sign_in_again(client, active_user, password, django_capture_on_commit_callbacks)
        assert response["Location"] == "/compte/connexion/code/"
    code_mails = [m for m in mail.outbox if "code de connexion" in m.subject]
    assert len(code_mails) == 10
    response = client.get("/compte/connexion/code/")
    assert "saisissez le dernier code reçu" in page(response)
    assert client.post("/compte/connexion/code/", {"action": "resend"}).status_code == 429
