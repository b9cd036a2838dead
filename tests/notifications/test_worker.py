"""The daily task on a real Celery worker and Redis broker, as beat sends it: runs whenever REDIS_URL is set
(always in CI)."""

import os
import time
from datetime import timedelta

import pytest
from django.core import mail

from chorus.outbox.models import OutboxMail
from notifications.models import Reminder
from notifications.tasks import reminders_daily
from tests.chorus.test_outbox_worker import celery_worker  # noqa: F401 — the real worker fixture
from tests.factories import MembershipFactory
from tests.notifications.conftest import CLOSES

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("REDIS_URL"), reason="REDIS_URL not set: no Redis for a real worker"
    ),
]


def test_beats_task_runs_on_a_worker_and_its_reminder_is_delivered(celery_worker, time_machine):  # noqa: F811
    MembershipFactory(user__email="exploitant@example.fr", main_manager=True)
    time_machine.move_to(f"{CLOSES - timedelta(days=7)}T07:30:00+01:00", tick=True)

    reminders_daily.delay()
    deadline = time.monotonic() + 30
    while (
        time.monotonic() < deadline and not OutboxMail.objects.filter(status=OutboxMail.Status.SENT).exists()
    ):
        time.sleep(0.2)

    assert Reminder.objects.get().state == Reminder.State.SENT
    assert [m.to for m in mail.outbox] == [["exploitant@example.fr"]]
    assert mail.outbox[0].extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
