from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from accounts import services
from accounts.models import SecondFactorFailure

pytestmark = pytest.mark.django_db


def test_every_factor_counts_toward_one_cap_per_account(active_user, django_capture_on_commit_callbacks):
    calls = []

    def wrong():
        calls.append(1)
        return False

    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(9):
            outcome = services.second_factor_verify(user=active_user, factor="totp", check=wrong)
            assert outcome == services.SecondFactorOutcome(accepted=False)
        device = services.login_code_send(user=active_user)
        with pytest.raises(services.AccountError, match="Trop de codes erronés"):
            services.login_code_verify(
                user=active_user, code="000000" if device.token != "000000" else "1" * 6
            )
    assert services.second_factor_paused_until(user=active_user) is not None
    # Paused: the next answer is refused without even being checked, right or not.
    outcome = services.second_factor_verify(user=active_user, factor="totp", check=lambda: True)
    assert not outcome.accepted and outcome.paused_until is not None
    assert len(calls) == 9
    assert [m.subject for m in mail.outbox if "suspendue" in m.subject] == [
        "Connexion suspendue à votre compte Chorus Agri"
    ]
    with pytest.raises(services.SecondFactorPaused):
        services.login_code_send(user=active_user)


def test_failures_older_than_the_window_no_longer_count(active_user):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(9):
            services.second_factor_verify(user=active_user, factor="totp", check=lambda: False)
    with time_machine.travel(start + timedelta(hours=1, seconds=1), tick=False):
        outcome = services.second_factor_verify(user=active_user, factor="totp", check=lambda: False)
        assert outcome.paused_until is None
        assert services.second_factor_verify(user=active_user, factor="totp", check=lambda: True).accepted
    # Old rows are purged as new ones come.
    assert SecondFactorFailure.objects.filter(user=active_user).count() == 1
