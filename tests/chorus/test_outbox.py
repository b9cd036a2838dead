from datetime import timedelta

import pytest
import time_machine
from django.contrib.admin.sites import site as admin_site
from django.core import mail
from django.core.mail.backends import locmem
from django.db import transaction
from django.utils import timezone

from chorus import celery_app
from chorus.outbox.models import OutboxMail
from chorus.outbox.services import (
    mail_deliver,
    mail_queue,
    mail_queue_many,
    mail_render,
    mail_sweep,
    retry_delay,
)
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


@pytest.fixture
def smtp(settings):
    """The SMTP server, switched off (connection refused) and on (Django's in-memory outbox)."""

    class Switch:
        def down(self):
            settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
            settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2

        def up(self):
            settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    return Switch()


def test_failed_attempt_waits_for_its_back_off_before_the_sweep_tries_again(
    smtp, django_capture_on_commit_callbacks
):
    smtp.down()
    with time_machine.travel(timezone.now(), tick=False) as clock:
        with django_capture_on_commit_callbacks(execute=True):
            queued = queue_sample()
        queued.refresh_from_db()
        assert (queued.status, queued.attempts) == (OutboxMail.Status.PENDING, 1)
        assert queued.next_attempt_at == timezone.now() + timedelta(minutes=1)
        clock.shift(timedelta(seconds=59))
        assert mail_sweep() == 0
        clock.shift(timedelta(seconds=1))
        assert mail_sweep() == 1
        queued.refresh_from_db()
        assert queued.attempts == 2
        assert queued.next_attempt_at == timezone.now() + timedelta(minutes=2)


def test_retry_schedule_doubles_then_stays_at_fifteen_minutes_for_a_day(settings):
    delays = [retry_delay(attempts) for attempts in range(1, settings.OUTBOX_MAX_ATTEMPTS)]
    assert [d.total_seconds() / 60 for d in delays[:6]] == [1, 2, 4, 8, 15, 15]
    assert max(delays) == timedelta(minutes=15)
    assert sum(delays, timedelta()) >= timedelta(hours=24)


def test_an_hour_of_smtp_outage_loses_no_mail_and_sends_each_once(smtp, django_capture_on_commit_callbacks):
    """Celery beat's sweep runs every minute through one hour of SMTP failure and after; mails are queued
    before and during the outage."""
    smtp.down()
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        with django_capture_on_commit_callbacks(execute=True):
            for number in range(10):
                queue_sample(number=f"avant-{number}")
        for minute in range(1, 60 + 25):
            clock.shift(timedelta(minutes=1))
            if minute == 61:  # the sweep at minute 60 still met the outage
                smtp.up()
            if minute < 60 and minute % 6 == 0:
                with django_capture_on_commit_callbacks(execute=True):
                    queue_sample(number=f"pendant-{minute}")
            mail_sweep()
            if minute <= 60:
                assert mail.outbox == []

    rows = list(OutboxMail.objects.all())
    assert len(rows) == 19
    assert {row.status for row in rows} == {OutboxMail.Status.SENT}
    # Every mail arrived once, and within one capped back-off (plus a sweep) of the server's return.
    assert len(mail.outbox) == 19
    message_ids = [sent.message()["Message-ID"] for sent in mail.outbox]
    assert sorted(message_ids) == sorted(row.message_id for row in rows)
    assert max(row.sent_at for row in rows) <= start + timedelta(minutes=61 + 15)
    # The first mails failed at minutes 0, 1, 3, 7, 15, 30, 45 and 60, and went out at minute 75.
    assert {row.attempts for row in rows if row.created_at == start} == {9}


class SentThenLostBackend(locmem.EmailBackend):
    """The SMTP server took the mail, then the worker died before recording it (the attempt raises)."""

    def send_messages(self, messages):
        super().send_messages(messages)
        raise ConnectionResetError("worker lost after the send")


def test_a_mail_sent_twice_carries_the_same_message_id(settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = f"{__name__}.SentThenLostBackend"
    with time_machine.travel(timezone.now(), tick=False) as clock:
        with django_capture_on_commit_callbacks(execute=True):
            queued = queue_sample()
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        clock.shift(timedelta(minutes=1))
        assert mail_sweep() == 1

    queued.refresh_from_db()
    assert queued.status == OutboxMail.Status.SENT
    assert len(mail.outbox) == 2
    first, second = (sent.message()["Message-ID"] for sent in mail.outbox)
    assert first == second == queued.message_id
    assert queued.message_id.endswith("@chorus-agri.example>")


def test_message_ids_differ_between_mails():
    assert queue_sample().message_id != queue_sample().message_id


def test_a_stale_dispatch_does_not_try_the_same_attempt_again(smtp, django_capture_on_commit_callbacks):
    smtp.down()
    with django_capture_on_commit_callbacks(execute=True):
        queued = queue_sample()
    smtp.up()
    # A second task for attempt 1 (the sweep's lease ran out while the first one waited in the queue).
    mail_deliver(mail_id=queued.pk, attempt=0)
    queued.refresh_from_db()
    assert (queued.status, queued.attempts) == (OutboxMail.Status.PENDING, 1)
    assert mail.outbox == []


def test_smtp_failure_is_retried_then_marked_failed(settings, smtp, django_capture_on_commit_callbacks):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    smtp.down()
    with time_machine.travel(timezone.now(), tick=False) as clock:
        with django_capture_on_commit_callbacks(execute=True):
            queued = queue_sample()
        for _ in range(10):
            clock.shift(timedelta(minutes=1))
            mail_sweep()
        queued.refresh_from_db()
        assert queued.status == OutboxMail.Status.FAILED
        assert queued.attempts == 3
        assert "ConnectionRefusedError" in queued.last_error
        # A failed mail is not picked up again by the sweep.
        clock.shift(timedelta(hours=1))
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


def test_a_mails_own_headers_go_out_with_the_outbox_message_id(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        queued = mail_queue(
            to=["a@example.fr"],
            template="tests/emails/plain",
            headers={
                "List-Unsubscribe": "<https://chorus-agri.example/x/>",
                "Message-ID": "<forged@example>",
            },
        )

    raw = mail.outbox[0].message().as_string()
    assert "List-Unsubscribe: <https://chorus-agri.example/x/>" in raw
    # The outbox's own Message-ID wins: a caller cannot make two mails look like one.
    assert f"Message-ID: {queued.message_id}" in raw
    assert "forged@example" not in raw


def test_many_mails_queued_at_once_are_each_sent_after_commit(django_capture_on_commit_callbacks):
    rendered = [
        mail_render(to=[f"u{n}@example.fr"], template=SAMPLE, context={"name": "Anne", "number": str(n)})
        for n in range(3)
    ]
    with django_capture_on_commit_callbacks(execute=True):
        queued = mail_queue_many(rendered)
        assert mail.outbox == []

    assert sorted(m.subject for m in mail.outbox) == ["Votre dossier 0", "Votre dossier 1", "Votre dossier 2"]
    assert len({m.extra_headers["Message-ID"] for m in mail.outbox}) == 3
    assert set(OutboxMail.objects.filter(pk__in=[m.pk for m in queued]).values_list("status", flat=True)) == {
        OutboxMail.Status.SENT
    }


@pytest.mark.django_db(transaction=True)
def test_many_mails_queued_in_a_rolled_back_transaction_send_nothing():
    with pytest.raises(RuntimeError), transaction.atomic():
        mail_queue_many(
            [mail_render(to=["a@example.fr"], template=SAMPLE, context={"name": "A", "number": "1"})]
        )
        raise RuntimeError("the job failed")

    assert OutboxMail.objects.count() == 0
    assert mail.outbox == []
