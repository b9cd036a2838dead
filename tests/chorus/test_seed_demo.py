import pytest
from django.core.management import call_command

from accounts.models import User

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent_and_prints_logins(capsys):
    call_command("seed_demo")
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert "admin@chorus-agri.example" in out
    assert User.objects.filter(email="admin@chorus-agri.example", is_superuser=True).count() == 1
