"""The outbox against a real Celery worker and Redis broker: runs whenever REDIS_URL is set (always in CI)."""

import os
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.db import transaction

from chorus import celery_app
from chorus.outbox.models import OutboxMail
from chorus.outbox.services import mail_queue

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("REDIS_URL"), reason="REDIS_URL not set: no Redis for a real worker"
    ),
]


@pytest.fixture
def celery_worker(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    conf = celery_app.conf
    saved = conf.task_always_eager
    conf.task_always_eager = False
    celery_app.control.purge()
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as worker:
        yield worker
    conf.task_always_eager = saved


def test_mail_goes_out_through_a_real_worker(celery_worker):
    with transaction.atomic():
        queued = mail_queue(
            to=["cuma@example.fr"], template="tests/emails/sample", context={"name": "Paul", "number": "7"}
        )

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        queued.refresh_from_db()
        if queued.status != OutboxMail.Status.PENDING:
            break
        time.sleep(0.1)

    assert queued.status == OutboxMail.Status.SENT
    assert [m.subject for m in mail.outbox] == ["Votre dossier 7"]


def test_password_reset_link_goes_out_through_a_real_worker(celery_worker, client):
    from django.utils import timezone

    from accounts.models import PasswordResetDemand
    from tests.factories import UserFactory

    user = UserFactory(email="reset@example.fr", activated_at=timezone.now())
    assert client.post("/compte/mot-de-passe-oublie/", {"email": user.email}).status_code == 302

    deadline = time.monotonic() + 20
    while (
        time.monotonic() < deadline and not OutboxMail.objects.filter(status=OutboxMail.Status.SENT).exists()
    ):
        time.sleep(0.1)

    assert [m.to for m in mail.outbox] == [["reset@example.fr"]]
    assert "/compte/reinitialiser/" in mail.outbox[0].body
    assert not PasswordResetDemand.objects.exists()
