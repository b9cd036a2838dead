import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import identify_hasher
from django.db import IntegrityError

from accounts.models import User
from chorus.settings import PASSWORD_HASHERS as PRODUCTION_HASHERS

pytestmark = pytest.mark.django_db


def test_login_address_is_unique_regardless_of_case():
    User.objects.create_user("Marie.Dupont@Example.fr", "x", last_name="Dupont", first_name="Marie")
    with pytest.raises(IntegrityError):
        User.objects.create_user("marie.dupont@example.FR", "x", last_name="Dupont", first_name="Marie")


def test_login_address_is_stored_and_found_in_lower_case():
    User.objects.create_user(" Jean@Ferme-Dupont.FR ", "x", last_name="Dupont", first_name="Jean")
    assert User.objects.get().email == "jean@ferme-dupont.fr"
    assert User.objects.filter(email="JEAN@ferme-dupont.fr").exists()


def test_sign_in_by_address_ignores_case():
    User.objects.create_user("luc@example.fr", "Colza-Printemps-2024", last_name="Roux", first_name="Luc")
    user = authenticate(username="LUC@Example.fr", password="Colza-Printemps-2024")
    assert user is not None and user.email == "luc@example.fr"


def test_production_hashes_passwords_with_argon2(settings):
    settings.PASSWORD_HASHERS = PRODUCTION_HASHERS
    user = User.objects.create_user(
        "eva@example.fr", "Betterave-Sucriere-9!", last_name="Blanc", first_name="Eva"
    )
    assert identify_hasher(user.password).algorithm == "argon2"


def test_contact_address_defaults_to_login_address():
    user = User(email="gaec@example.fr")
    assert user.contact_address == "gaec@example.fr"
    user.contact_email = "compta@example.fr"
    assert user.contact_address == "compta@example.fr"
