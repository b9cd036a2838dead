"""« Facteurs d'authentification »: authenticator app (TOTP), backup codes, the choice at sign-in."""

import re
from base64 import b32encode
from datetime import timedelta

import pyotp
import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import factors
from accounts.models import SecondFactorFailure
from tests.accounts.conftest import page
from tests.conftest import verify_session
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

FACTORS = reverse("accounts:factors")
ADD = reverse("accounts:totp_add")
SHOW = reverse("accounts:backup_codes_show")
REGENERATE = reverse("accounts:backup_codes_regenerate")
REMOVE_APP = reverse("accounts:factor_remove", args=["application"])
REMOVE_CODES = reverse("accounts:factor_remove", args=["codes-de-secours"])
LOGIN = reverse("accounts:login")
LOGIN_FACTOR = reverse("accounts:login_factor")
LOGIN_CODE = reverse("accounts:login_code")


def authenticator(device: TOTPDevice) -> pyotp.TOTP:
    """What the user's phone computes, from the same secret."""
    return pyotp.TOTP(b32encode(device.bin_key).decode())


def enrolled(user, *, codes=True) -> TOTPDevice:
    device = factors.totp_enrolment_start(user=user)
    factors.totp_enrolment_confirm(user=user, code=authenticator(device).now())
    device.refresh_from_db()
    if not codes:
        StaticDevice.objects.filter(user=user).delete()
    return device


def backup_tokens(user) -> list[str]:
    return list(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))


@pytest.fixture
def user(db):
    return UserFactory(
        email="luc.roux@example.fr", first_name="Luc", last_name="Roux", activated_at=timezone.now()
    )


@pytest.fixture
def signed_in(client, user):
    return verify_session(client, user)


# Enrolment --------------------------------------------------------------------------------------------------


def test_enrolment_shows_a_server_drawn_qr_code_and_the_secret_then_a_first_code_confirms_it(
    signed_in, user, django_capture_on_commit_callbacks
):
    response = signed_in.get(ADD)
    assert response.status_code == 200
    text = response.content.decode()
    assert "<svg" in text and "<img" not in text.split("fr-qr")[1][:200]
    device = TOTPDevice.objects.get(user=user)
    assert not device.confirmed
    secret = factors.totp_secret_text(device)
    assert secret in text
    assert secret.replace(" ", "") == b32encode(device.bin_key).decode().rstrip("=")
    # A reload keeps the same secret: the code already scanned keeps working.
    assert secret in signed_in.get(ADD).content.decode()
    assert TOTPDevice.objects.filter(user=user).count() == 1

    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(ADD, {"code": authenticator(device).now()})
    assert response["Location"] == SHOW
    device.refresh_from_db()
    assert device.confirmed
    assert [m.subject for m in mail.outbox] == [
        "Facteur d'authentification ajouté à votre compte Chorus Agri : Application d'authentification"
    ]
    assert mail.outbox[0].to == ["luc.roux@example.fr"]
    assert secret.replace(" ", "") not in mail.outbox[0].body

    # The 10 backup codes are shown once.
    codes_page = page(signed_in.get(SHOW))
    tokens = backup_tokens(user)
    assert len(tokens) == factors.BACKUP_CODE_COUNT == len(set(tokens))
    for token in tokens:
        assert factors.format_backup_code(token) in codes_page
    assert "ne seront plus jamais affichés" in codes_page
    assert signed_in.get(SHOW)["Location"] == FACTORS

    # The secret is never shown again: enrolment is closed, the list shows no key.
    assert signed_in.get(ADD)["Location"] == FACTORS
    factors_page = signed_in.get(FACTORS).content.decode()
    assert secret not in factors_page and "<svg" not in factors_page
    assert "Active" in factors_page and "Il vous reste" in factors_page


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("", "Saisissez le code."),
        ("12345", "Le code de l'application comporte 6 chiffres."),
        ("abcdef", "Le code de l'application comporte 6 chiffres."),
        ("１２３４５６", "Le code de l'application comporte 6 chiffres."),  # full-width digits
        ("1" * 30, "Le code de l'application comporte 6 chiffres."),
    ],
)
def test_enrolment_refuses_a_malformed_code_next_to_the_field(signed_in, user, code, message):
    response = signed_in.post(ADD, {"code": code})
    assert response.status_code == 200
    assert message in page(response)
    assert not TOTPDevice.objects.get(user=user).confirmed
    assert not StaticDevice.objects.exists()


def test_enrolment_refuses_a_wrong_code_and_counts_it(signed_in, user):
    signed_in.get(ADD)
    device = TOTPDevice.objects.get(user=user)
    wrong = str((int(authenticator(device).now()) + 1) % 1_000_000).zfill(6)
    response = signed_in.post(ADD, {"code": wrong})
    assert "Ce code ne correspond pas" in page(response)
    assert factors.totp_secret_text(device) in response.content.decode()  # still enrolling: shown again
    assert not TOTPDevice.objects.get(user=user).confirmed
    assert SecondFactorFailure.objects.filter(user=user, factor=factors.TOTP).count() == 1


# Drift and replay -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("steps", "accepted"), [(-2, False), (-1, True), (0, True), (1, True), (2, False)])
def test_a_clock_drift_of_one_step_is_accepted_not_more(user, steps, accepted):
    device = enrolled(user)
    now = timezone.now() + timedelta(minutes=5)  # past the enrolment code's step
    with time_machine.travel(now, tick=False):
        code = authenticator(device).at(now + timedelta(seconds=30 * steps))
        if accepted:
            assert factors.factor_verify(user=user, factor=factors.TOTP, code=code) == device
        else:
            with pytest.raises(factors.AccountError, match="incorrect ou a déjà servi"):
                factors.factor_verify(user=user, factor=factors.TOTP, code=code)


def test_an_accepted_drift_does_not_widen_the_window(user):
    device = enrolled(user)
    now = timezone.now() + timedelta(minutes=5)
    with time_machine.travel(now, tick=False):
        factors.factor_verify(
            user=user, factor=factors.TOTP, code=authenticator(device).at(now + timedelta(seconds=30))
        )
    later = now + timedelta(minutes=5)
    with time_machine.travel(later, tick=False), pytest.raises(factors.AccountError):
        factors.factor_verify(
            user=user, factor=factors.TOTP, code=authenticator(device).at(later + timedelta(seconds=60))
        )


def test_a_replayed_code_is_refused_even_within_its_window(user):
    device = enrolled(user)
    now = timezone.now() + timedelta(minutes=5)
    with time_machine.travel(now, tick=False):
        code = authenticator(device).at(now)
        factors.factor_verify(user=user, factor=factors.TOTP, code=code)
        with pytest.raises(factors.AccountError, match="déjà servi"):
            factors.factor_verify(user=user, factor=factors.TOTP, code=code)
        # An earlier step's code is refused too once a later one was used.
        with pytest.raises(factors.AccountError):
            factors.factor_verify(
                user=user, factor=factors.TOTP, code=authenticator(device).at(now - timedelta(seconds=30))
            )


# Sign-in ----------------------------------------------------------------------------------------------------


def sign_in_password(client, user, callbacks):
    with callbacks(execute=True):
        return client.post(LOGIN, {"username": user.email, "password": "Fenouil-Tracteur-42!"})


def test_sign_in_offers_the_users_factors_and_mails_nothing_until_the_email_code_is_picked(
    client, user, django_capture_on_commit_callbacks
):
    device = enrolled(user)
    mail.outbox.clear()
    response = sign_in_password(client, user, django_capture_on_commit_callbacks)
    assert response["Location"] == LOGIN_FACTOR
    assert mail.outbox == []
    choice = page(client.get(LOGIN_FACTOR))
    for label in ["Code reçu par courriel", "Application d'authentification", "Code de secours"]:
        assert label in choice
    assert 'value="email" required id="id_factor_0" checked' in client.get(LOGIN_FACTOR).content.decode()

    assert client.post(LOGIN_FACTOR, {"factor": "totp"})["Location"] == LOGIN_CODE
    assert "Saisissez le code de votre application" in page(client.get(LOGIN_CODE))
    now = timezone.now() + timedelta(minutes=5)
    with time_machine.travel(now, tick=False):
        response = client.post(LOGIN_CODE, {"code": authenticator(device).at(now)})
    assert response["Location"] == "/"
    assert client.session["_auth_user_id"] == str(user.pk)
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert mail.outbox == []


def test_picking_the_email_code_mails_it_and_signs_in_as_before(
    client, user, django_capture_on_commit_callbacks
):
    enrolled(user)
    mail.outbox.clear()
    sign_in_password(client, user, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(LOGIN_FACTOR, {"factor": "email"})["Location"] == LOGIN_CODE
    from tests.mails import mailed_code

    code_page = page(client.get(LOGIN_CODE))
    assert "Saisissez le code reçu par courriel" in code_page
    assert "Utiliser un autre facteur d'authentification" in code_page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(LOGIN_CODE, {"action": "verify", "code": mailed_code()})
    assert response["Location"] == "/"


def test_account_with_only_the_email_code_goes_straight_to_it(
    client, user, django_capture_on_commit_callbacks
):
    assert sign_in_password(client, user, django_capture_on_commit_callbacks)["Location"] == LOGIN_CODE
    assert len(mail.outbox) == 1
    assert client.get(LOGIN_FACTOR).status_code == 200  # only « Code reçu par courriel » offered
    assert "Application d'authentification" not in page(client.get(LOGIN_FACTOR))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Choisissez un facteur d'authentification."),
        ({"factor": "sms"}, "Choisissez un des facteurs proposés."),
    ],
)
def test_factor_choice_refuses_bad_input(client, user, django_capture_on_commit_callbacks, data, message):
    enrolled(user)
    sign_in_password(client, user, django_capture_on_commit_callbacks)
    response = client.post(LOGIN_FACTOR, data)
    assert response.status_code == 200
    assert message in page(response)


def test_backup_code_signs_in_once(client, user, django_capture_on_commit_callbacks):
    enrolled(user)
    token = backup_tokens(user)[0]
    sign_in_password(client, user, django_capture_on_commit_callbacks)
    client.post(LOGIN_FACTOR, {"factor": "backup_codes"})
    response = client.post(LOGIN_CODE, {"code": f" {token[:4].upper()}-{token[4:]} "})
    assert response["Location"] == "/"
    assert client.session[DEVICE_ID_SESSION_KEY] == StaticDevice.objects.get(user=user).persistent_id
    assert token not in backup_tokens(user) and len(backup_tokens(user)) == 9

    client.logout()
    sign_in_password(client, user, django_capture_on_commit_callbacks)
    client.post(LOGIN_FACTOR, {"factor": "backup_codes"})
    response = client.post(LOGIN_CODE, {"code": token})
    assert "Ce code de secours est incorrect ou a déjà servi." in page(response)
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    ("factor", "code", "message"),
    [
        ("totp", "", "Saisissez le code."),
        ("totp", "12 34", "Le code de l'application comporte 6 chiffres."),
        ("totp", "٠١٢٣٤٥", "Le code de l'application comporte 6 chiffres."),  # Arabic-Indic digits
        ("totp", "000000", "Ce code est incorrect ou a déjà servi."),
        ("backup_codes", "abc", "Un code de secours comporte 8 caractères"),
        ("backup_codes", "abcd-efg1", "Un code de secours comporte 8 caractères"),
        ("backup_codes", "aaaa-aaaa", "Ce code de secours est incorrect ou a déjà servi."),
    ],
)
def test_sign_in_codes_refuse_bad_input_in_french(
    client, user, django_capture_on_commit_callbacks, factor, code, message
):
    device = enrolled(user)
    if code == "000000" and authenticator(device).now() == "000000":
        code = "111111"
    sign_in_password(client, user, django_capture_on_commit_callbacks)
    client.post(LOGIN_FACTOR, {"factor": factor})
    response = client.post(LOGIN_CODE, {"code": code})
    assert response.status_code == 200
    assert message in page(response)
    assert "_auth_user_id" not in client.session


def test_wrong_app_codes_count_toward_the_accounts_one_cap(client, user, django_capture_on_commit_callbacks):
    device = enrolled(user)
    sign_in_password(client, user, django_capture_on_commit_callbacks)
    client.post(LOGIN_FACTOR, {"factor": "totp"})
    right = authenticator(device).now()
    wrong = str((int(right) + 500_000) % 1_000_000).zfill(6)
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(10):
            response = client.post(LOGIN_CODE, {"code": wrong})
    assert "Trop de codes erronés" in page(response)
    assert SecondFactorFailure.objects.filter(user=user, factor="totp").count() == 10
    assert any("suspendue" in m.subject for m in mail.outbox)
    # Paused: even the right code, or another factor, no longer signs in.
    assert "Trop de codes erronés" in page(client.post(LOGIN_CODE, {"code": right}))
    client.post(LOGIN_FACTOR, {"factor": "backup_codes"})
    assert "Trop de codes erronés" in page(client.post(LOGIN_CODE, {"code": backup_tokens(user)[0]}))
    assert "_auth_user_id" not in client.session


def test_staff_signed_in_with_the_app_reach_the_admin_which_never_shows_the_secret(
    client, django_capture_on_commit_callbacks
):
    staff = UserFactory(staff=True, is_superuser=True, activated_at=timezone.now())
    device = enrolled(staff)
    sign_in_password(client, staff, django_capture_on_commit_callbacks)
    client.post(LOGIN_FACTOR, {"factor": "totp"})
    now = timezone.now() + timedelta(minutes=5)
    with time_machine.travel(now, tick=False):
        client.post(LOGIN_CODE, {"code": authenticator(device).at(now)})
    assert client.get("/admin/").status_code == 200
    for url in [
        "/admin/otp_totp/totpdevice/",
        "/admin/otp_static/staticdevice/",
        f"/admin/otp_totp/totpdevice/{device.pk}/config/",
    ]:
        assert client.get(url).status_code == 404
    user_page = client.get(reverse("admin:accounts_user_change", args=[staff.pk])).content.decode()
    assert device.key not in user_page
    assert b32encode(device.bin_key).decode().rstrip("=") not in user_page


def test_staff_without_a_verified_factor_cannot_reach_the_admin(client):
    staff = UserFactory(staff=True, is_superuser=True)
    client.force_login(staff)
    assert client.get("/admin/").status_code == 302


# Removing and regenerating ----------------------------------------------------------------------------------


def test_removing_the_app_asks_for_a_current_code_and_mails_the_owner(
    signed_in, user, django_capture_on_commit_callbacks
):
    device = enrolled(user)
    mail.outbox.clear()
    form = page(signed_in.get(REMOVE_APP))
    assert "Confirmer avec" in form and "Code de secours" in form

    response = signed_in.post(REMOVE_APP, {"confirm_with": "totp", "code": ""})
    assert "Saisissez un code actuel pour confirmer." in page(response)
    wrong = str((int(authenticator(device).now()) + 500_000) % 1_000_000).zfill(6)
    response = signed_in.post(REMOVE_APP, {"confirm_with": "totp", "code": wrong})
    assert "Ce code est incorrect ou a déjà servi." in page(response)
    response = signed_in.post(REMOVE_APP, {"confirm_with": "sms", "code": "123456"})
    assert "Choisissez un des facteurs proposés." in page(response)
    response = signed_in.post(REMOVE_APP, {"confirm_with": "email", "code": "123456"})
    assert "Demandez un nouveau code avec « Recevoir un code par courriel »." in page(response)
    response = signed_in.post(REMOVE_APP, {"confirm_with": "email", "code": "１２３４５６"})
    assert "Le code reçu par courriel comporte 6 chiffres." in page(response)
    assert TOTPDevice.objects.filter(user=user).exists()
    assert SecondFactorFailure.objects.filter(user=user).count() == 1
    assert mail.outbox == []

    now = timezone.now() + timedelta(minutes=5)
    with time_machine.travel(now, tick=False), django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(REMOVE_APP, {"confirm_with": "totp", "code": authenticator(device).at(now)})
    assert response["Location"] == FACTORS
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert [m.subject for m in mail.outbox] == [
        "Facteur d'authentification retiré de votre compte Chorus Agri : Application d'authentification"
    ]
    assert "Ajouter une application d'authentification" in page(signed_in.get(FACTORS))


def confirmation_code() -> str:
    found = re.search(r"Votre code pour confirmer .* est : (\d{6})", mail.outbox[-1].body)
    assert found, mail.outbox[-1].body
    return found.group(1)


def test_without_phone_nor_backup_codes_an_emailed_code_removes_the_app_so_a_new_one_can_be_enrolled(
    signed_in, user, django_capture_on_commit_callbacks
):
    enrolled(user, codes=False)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(REMOVE_APP, {"action": "send_code"})
    assert response["Location"] == REMOVE_APP
    assert mail.outbox[-1].subject.startswith("Votre code de confirmation Chorus Agri")
    assert "Un code a été envoyé à luc.roux@example.fr" in page(signed_in.get(REMOVE_APP))
    code = confirmation_code()
    wrong = str((int(code) + 1) % 1_000_000).zfill(6)
    response = signed_in.post(REMOVE_APP, {"confirm_with": "email", "code": wrong})
    assert "Ce code est incorrect. Il vous reste 4 essais." in page(response)
    assert SecondFactorFailure.objects.filter(user=user, factor="email_code").count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(REMOVE_APP, {"confirm_with": "email", "code": code})
    assert response["Location"] == FACTORS
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert "retiré" in mail.outbox[-1].subject
    # The code served once; a new app can be enrolled.
    assert signed_in.get(ADD).status_code == 200


def test_a_backup_code_can_confirm_removing_a_lost_phones_app(signed_in, user):
    enrolled(user)
    token = backup_tokens(user)[0]
    response = signed_in.post(REMOVE_APP, {"confirm_with": "backup_codes", "code": token.upper()})
    assert response["Location"] == FACTORS
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert token not in backup_tokens(user)


def test_regenerating_backup_codes_asks_for_a_code_and_voids_the_old_ones(
    signed_in, user, django_capture_on_commit_callbacks
):
    device = enrolled(user)
    old = backup_tokens(user)
    response = signed_in.post(REGENERATE, {"confirm_with": "backup_codes", "code": "zzzz-zzzz"})
    assert "Ce code de secours est incorrect ou a déjà servi." in page(response)
    response = signed_in.post(REGENERATE, {"code": "123456"})
    assert "Choisissez avec quel facteur confirmer." in page(response)
    assert backup_tokens(user) == old

    now = timezone.now() + timedelta(minutes=5)
    with time_machine.travel(now, tick=False), django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(REGENERATE, {"confirm_with": "totp", "code": authenticator(device).at(now)})
    assert response["Location"] == SHOW
    new = backup_tokens(user)
    assert len(new) == 10 and not set(new) & set(old)
    shown = page(signed_in.get(SHOW))
    assert all(factors.format_backup_code(token) in shown for token in new)
    assert any("Code de secours" in m.subject for m in mail.outbox)
    with pytest.raises(factors.AccountError):
        factors.factor_verify(user=user, factor=factors.BACKUP_CODES, code=old[0])


def test_removing_backup_codes_keeps_the_app(signed_in, user, django_capture_on_commit_callbacks):
    enrolled(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(
            REMOVE_CODES, {"confirm_with": "backup_codes", "code": backup_tokens(user)[0]}
        )
    assert response["Location"] == FACTORS
    assert not StaticDevice.objects.filter(user=user).exists()
    assert TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    assert "Code de secours" in mail.outbox[-1].subject


def test_pages_for_factors_the_user_does_not_have_lead_back_to_the_list(signed_in):
    assert signed_in.get(REMOVE_APP)["Location"] == FACTORS
    assert signed_in.get(REMOVE_CODES)["Location"] == FACTORS
    assert signed_in.get(REGENERATE)["Location"] == FACTORS
    assert signed_in.get(SHOW)["Location"] == FACTORS
    assert signed_in.get(reverse("accounts:factor_remove", args=["courriel"])).status_code == 404


def test_factor_pages_need_a_signed_in_user(client):
    for url in [FACTORS, ADD, SHOW, REGENERATE, REMOVE_APP]:
        assert client.get(url)["Location"].startswith(LOGIN)


def test_one_users_factors_are_not_another_users(client, user):
    enrolled(user)
    other = UserFactory(email="autre@example.fr")
    verify_session(client, other)
    assert "Ajouter une application d'authentification" in page(client.get(FACTORS))
    assert client.get(REMOVE_APP)["Location"] == FACTORS
    response = client.post(REMOVE_APP, {"confirm_with": "backup_codes", "code": backup_tokens(user)[0]})
    assert response["Location"] == FACTORS
    assert TOTPDevice.objects.filter(user=user).exists() and len(backup_tokens(user)) == 10


def test_deactivating_the_account_deletes_its_authenticator_and_backup_codes(
    signed_in, user, django_capture_on_commit_callbacks
):
    enrolled(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(
            reverse("accounts:deactivate"), {"password": "Fenouil-Tracteur-42!", "confirm": "on"}
        )
    assert response["Location"] == "/"
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not StaticDevice.objects.filter(user=user).exists() and not StaticToken.objects.exists()
