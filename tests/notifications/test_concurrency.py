"""Two beat processes (or a retried task) running the daily job at the same moment, each on its own
PostgreSQL connection: every reminder is inserted and mailed once."""

from datetime import timedelta

import pytest
from django.core import mail

from chorus.outbox.models import OutboxMail
from notifications.models import Digest, Reminder
from notifications.services import RunSummary, reminders_send_due
from tests.attachments.test_concurrency import run_together
from tests.conftest import requires_postgresql
from tests.factories import MembershipFactory, StructureFactory, UserFactory
from tests.notifications.conftest import CLOSES

pytestmark = [pytest.mark.django_db(transaction=True), requires_postgresql]

ROUNDS = 3


def test_two_concurrent_runs_send_each_reminder_once():
    firm = UserFactory(email="comptable@cabinet.fr")
    for n in range(8):
        structure = StructureFactory(name=f"Client {n}")
        MembershipFactory(user=firm, structure=structure, manager=True)
        MembershipFactory(structure=structure, user__email=f"exploitant{n}@example.fr", main_manager=True)
    day = CLOSES - timedelta(days=90)

    for round_ in range(ROUNDS):
        today = day + timedelta(days=round_)
        outcomes = run_together(
            lambda today=today: reminders_send_due(today=today),
            lambda today=today: reminders_send_due(today=today),
        )
        assert all(isinstance(outcome, RunSummary) for outcome in outcomes), outcomes

    # 8 farmers + 8 rows for the firm, once; the runs of the next days find nothing new.
    assert Reminder.objects.count() == 16
    assert Reminder.objects.filter(state=Reminder.State.SENT).count() == 16
    assert Digest.objects.count() == 1
    assert OutboxMail.objects.count() == 9
    addresses = sorted(address for message in mail.outbox for address in message.to)
    assert addresses == sorted(["comptable@cabinet.fr", *(f"exploitant{n}@example.fr" for n in range(8))])
