from datetime import timedelta

import pytest
import time_machine
from django.contrib.admin.sites import site as admin_site
from django.core import mail
from django.db import transaction
from django.utils import timezone

from chorus import celery_app
from chorus.outbox.models import OutboxMail
from chorus.outbox.services import mail_queue, mail_sweep
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SAMPLE = "tests/emails/sample"


def queue_sample(**context):
    return mail_queue(
        to=["gaec@example.fr"], template=SAMPLE, context={"name": "Anne", "number": "42", **context}
    )


def test_mail_is_sent_after_commit_with_text_and_html(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        queued = queue_sample()
        assert mail.outbox == []

    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.subject == "Votre dossier 42"
    assert sent.to == ["gaec@example.fr"]
    assert "Bonjour Anne" in sent.body
    assert "http://" in sent.body
    assert sent.alternatives[0].mimetype == "text/html"
    queued.refresh_from_db()
    assert queued.status == OutboxMail.Status.SENT
    assert queued.attempts == 1
    assert queued.sent_at is not None


def test_mail_without_html_template_is_sent_as_text(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        mail_queue(to=["a@example.fr"], template="tests/emails/plain")
    assert mail.outbox[0].alternatives == []


@pytest.mark.django_db(transaction=True)
def test_rolled_back_transaction_sends_nothing_and_stores_nothing():
    with pytest.raises(RuntimeError), transaction.atomic():
        queue_sample()
        raise RuntimeError("the change failed")

    assert OutboxMail.objects.count() == 0
    assert mail.outbox == []


@pytest.fixture
def unreachable_broker():
    conf = celery_app.conf
    saved = conf.broker_url, conf.task_always_eager
    conf.broker_url, conf.task_always_eager = "redis://127.0.0.1:1/0", False
    celery_app._pool = None
    yield
    conf.broker_url, conf.task_always_eager = saved
    celery_app._pool = None


@pytest.mark.django_db(transaction=True)
def test_mail_queued_while_broker_is_down_is_sent_later_by_the_sweep(unreachable_broker, settings):
    with transaction.atomic():
        queued = queue_sample()
    # The commit succeeded although the broker could not be reached: the mail waits in the outbox.
    queued.refresh_from_db()
    assert queued.status == OutboxMail.Status.PENDING
    assert mail.outbox == []

    celery_app.conf.task_always_eager = True
    assert mail_sweep() == 0  # too recent: a task may still be on its way
    with time_machine.travel(timezone.now() + timedelta(seconds=settings.OUTBOX_SWEEP_AFTER_SECONDS + 1)):
        assert mail_sweep() == 1

    queued.refresh_from_db()
    assert queued.status == OutboxMail.Status.SENT
    assert len(mail.outbox) == 1


def test_smtp_failure_is_retried_then_marked_failed(settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2

    with django_capture_on_commit_callbacks(execute=True):
        queued = queue_sample()

    queued.refresh_from_db()
    assert queued.status == OutboxMail.Status.FAILED
    assert queued.attempts == settings.OUTBOX_MAX_ATTEMPTS
    assert "ConnectionRefusedError" in queued.last_error
    # A failed mail is not picked up again by the sweep.
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        assert mail_sweep() == 0


def test_smtp_recovering_before_the_last_attempt_sends_once(settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2
    settings.OUTBOX_MAX_ATTEMPTS = 1
    with django_capture_on_commit_callbacks(execute=True):
        queued = queue_sample()
    queued.refresh_from_db()
    assert queued.status == OutboxMail.Status.FAILED

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    admin = UserFactory(staff=True, is_superuser=True)
    model_admin = admin_site._registry[OutboxMail]
    request = _admin_request(admin)
    with django_capture_on_commit_callbacks(execute=True):
        model_admin.resend(request, OutboxMail.objects.filter(pk=queued.pk))

    queued.refresh_from_db()
    assert queued.status == OutboxMail.Status.SENT
    assert len(mail.outbox) == 1


def _admin_request(user):
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.test import RequestFactory

    request = RequestFactory().post("/admin/outbox/outboxmail/")
    request.user = user
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


def test_admin_lists_mails_and_offers_resend(admin_client):
    queue_sample()
    response = admin_client.get("/admin/outbox/outboxmail/")
    assert response.status_code == 200
    assert "Votre dossier 42" in response.text
    assert "Renvoyer les courriels sélectionnés" in response.text
