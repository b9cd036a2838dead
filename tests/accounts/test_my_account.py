import pytest
from django.core import mail
from django.test import Client

from accounts.models import User
from tests.accounts.conftest import flat, mailed_path, page
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NEW = "Prairie-Fleurie-55!"


@pytest.fixture
def signed_in(client, active_user):
    client.force_login(active_user)
    return active_user


def test_mon_compte_requires_sign_in(client):
    response = client.get("/compte/mon-compte/")
    assert response["Location"] == "/compte/connexion/?next=/compte/mon-compte/"


def test_edit_personal_information(client, signed_in):
    response = client.post(
        "/compte/mon-compte/",
        {
            "last_name": "Roux-Duval",
            "first_name": "Luc",
            "phone": "02 99 00 00 00",
            "mobile": "",
            "contact_email": "compta@example.fr",
        },
        follow=True,
    )
    assert "Vos informations personnelles sont enregistrées" in page(response)
    signed_in.refresh_from_db()
    assert (signed_in.last_name, signed_in.contact_address) == ("Roux-Duval", "compta@example.fr")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"last_name": "", "first_name": "Luc"}, "Saisissez votre nom."),
        ({"last_name": "<b>Roux</b>", "first_name": "Luc"}, "ne peut contenir que des lettres"),
        ({"last_name": "Roux", "first_name": "Luc", "phone": "12"}, "Saisissez un numéro de téléphone"),
        (
            {"last_name": "Roux", "first_name": "Luc", "contact_email": "x"},
            "Saisissez une adresse électronique valide",
        ),
    ],
)
def test_bad_personal_information_is_refused_and_nothing_saved(client, signed_in, data, message):
    response = client.post("/compte/mon-compte/", data)
    assert message in page(response)
    signed_in.refresh_from_db()
    assert signed_in.last_name == "Roux"


def test_change_password_keeps_this_session_and_mails_a_notice(
    client, signed_in, password, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/compte/mon-compte/mot-de-passe/",
            {"old_password": password, "new_password1": NEW, "new_password2": NEW},
        )
    assert response["Location"] == "/compte/mon-compte/"
    signed_in.refresh_from_db()
    assert signed_in.check_password(NEW)
    assert client.get("/compte/mon-compte/").status_code == 200
    assert "mot de passe" in mail.outbox[-1].subject


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"old_password": "faux", "new_password1": NEW, "new_password2": NEW},
            "Votre ancien mot de passe est incorrect",
        ),
        ({"new_password1": "court", "new_password2": "court"}, "trop court"),
        ({"new_password1": "Roux-Champs-2024!", "new_password2": "Roux-Champs-2024!"}, "ni votre nom"),
    ],
)
def test_bad_password_change_is_refused(client, signed_in, password, data, message):
    response = client.post("/compte/mon-compte/mot-de-passe/", {"old_password": password, **data})
    assert message in page(response)
    signed_in.refresh_from_db()
    assert signed_in.check_password(password)


def test_change_of_login_address_waits_for_the_new_address_to_confirm(
    client, signed_in, password, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/compte/mon-compte/adresse/", {"new_email": "Luc@Nouvelle-Ferme.fr", "password": password}
        )
    signed_in.refresh_from_db()
    assert signed_in.email == "luc.roux@example.fr"
    assert mail.outbox[-1].to == ["luc@nouvelle-ferme.fr"]

    path = mailed_path("/compte/confirmer-adresse/")
    assert "Confirmer la nouvelle adresse" in page(client.get(path))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(path)
    signed_in.refresh_from_db()
    assert signed_in.email == "luc@nouvelle-ferme.fr"
    assert mail.outbox[-1].to == ["luc.roux@example.fr"]
    assert "luc@nouvelle-ferme.fr" in flat(mail.outbox[-1].body)
    assert client.post(path).status_code == 410


def test_change_to_an_address_already_used_tells_its_owner_and_nobody_else(
    client, signed_in, password, django_capture_on_commit_callbacks
):
    UserFactory(email="deja@example.fr")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/compte/mon-compte/adresse/", {"new_email": "deja@example.fr", "password": password}
        )
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [["deja@example.fr"]]
    assert "/compte/confirmer-adresse/" not in mail.outbox[0].body
    signed_in.refresh_from_db()
    assert signed_in.email == "luc.roux@example.fr"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"new_email": "", "password": "x"}, "Saisissez la nouvelle adresse."),
        ({"new_email": "luc.roux@example.fr"}, "C'est déjà votre adresse de connexion."),
        ({"new_email": "autre@example.fr", "password": "faux"}, "Mot de passe incorrect."),
    ],
)
def test_bad_address_change_is_refused(client, signed_in, password, data, message):
    response = client.post("/compte/mon-compte/adresse/", {"password": password, **data})
    assert message in page(response)


def test_deactivate_my_account_signs_me_out_for_good(
    client, signed_in, password, django_capture_on_commit_callbacks
):
    response = client.post("/compte/mon-compte/desactiver/", {"password": password})
    assert "Cochez la case pour confirmer" in page(response)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/compte/mon-compte/desactiver/", {"password": password, "confirm": "on"})
    assert response["Location"] == "/"
    assert not User.objects.get(pk=signed_in.pk).is_active
    assert "_auth_user_id" not in client.session
    response = Client().post("/compte/connexion/", {"username": signed_in.email, "password": password})
    assert response.status_code == 200
    assert "incorrect" in page(response)


def test_admin_never_shows_passwords_or_codes(admin_client, active_user):
    response = admin_client.get(f"/admin/accounts/user/{active_user.pk}/change/")
    assert response.status_code == 200
    assert active_user.password not in response.text
    assert "md5$" not in response.text and "argon2" not in response.text
    assert admin_client.get("/admin/otp_email/emaildevice/").status_code == 404
    search = admin_client.get("/admin/accounts/user/?q=roux&is_active__exact=1")
    assert "luc.roux@example.fr" in search.text


def test_admin_requires_the_code_not_just_the_password(client, django_capture_on_commit_callbacks, password):
    staff = UserFactory(
        email="instructeur@example.fr", staff=True, is_superuser=True, last_name="Bodin", first_name="Alain"
    )
    response = client.get("/admin/")
    assert response["Location"].startswith("/admin/login/")
    assert client.get(response["Location"])["Location"].startswith("/compte/connexion/?next=/admin/")
    client.force_login(staff)  # a session without the e-mailed code
    assert client.get("/admin/").status_code == 302
    client.logout()
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/compte/connexion/", {"username": staff.email, "password": password, "next": "/admin/"})
    from tests.accounts.conftest import mailed_code

    response = client.post("/compte/connexion/code/", {"action": "verify", "code": mailed_code()})
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
