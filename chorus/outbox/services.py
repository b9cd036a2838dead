"""The durable mail outbox: queue a mail in the caller's transaction, deliver it after commit.

Nothing is sent for a rolled-back change (the row and the on-commit hook vanish with the transaction),
and nothing is lost when Redis or the SMTP server is down: the row stays pending with the time of its next
attempt (`next_attempt_at`), and the periodic sweep hands every due mail to a worker again. The schedule
lives in the row, not in delayed Celery tasks, so a broker restart or a lost task cannot drop a retry.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.utils import timezone

from chorus.outbox.models import OutboxMail

logger = logging.getLogger(__name__)


def mail_render(
    *, to: list[str], template: str, context: dict | None = None, headers: dict[str, str] | None = None
) -> OutboxMail:
    """Render `templates/<template>_subject.txt`, `_body.txt` and (optional) `_body.html` into an unsaved
    mail.

    `template` is a path such as "accounts/emails/activation". Text templates wrap their content in
    `{% autoescape off %}` (a text mail must not show HTML entities). `headers` are added to the message as
    they are (List-Unsubscribe…).
    """
    context = {"site_url": settings.SITE_URL, **(context or {})}
    subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
    body_text = render_to_string(f"{template}_body.txt", context)
    try:
        body_html = render_to_string(f"{template}_body.html", context)
    except TemplateDoesNotExist:
        body_html = ""
    return OutboxMail(
        recipients=list(to),
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        template=template,
        headers=dict(headers or {}),
        next_attempt_at=_lease_end(),
    )


def mail_queue(
    *, to: list[str], template: str, context: dict | None = None, headers: dict[str, str] | None = None
) -> OutboxMail:
    """Render a mail (see `mail_render`), store it, and send it once the current transaction commits."""
    mail = mail_render(to=to, template=template, context=context, headers=headers)
    mail.save()
    transaction.on_commit(lambda: mail_dispatch(mail_id=mail.pk, attempt=0))
    return mail


def mail_queue_many(mails: list[OutboxMail]) -> list[OutboxMail]:
    """Store mails from `mail_render` in a few INSERTs and send them once the transaction commits: for jobs
    that mail thousands at once (the daily reminders), where one INSERT per mail would dominate."""
    OutboxMail.objects.bulk_create(mails, batch_size=500)
    ids = [mail.pk for mail in mails]

    def dispatch_all():
        for mail_id in ids:
            mail_dispatch(mail_id=mail_id, attempt=0)

    transaction.on_commit(dispatch_all)
    return mails


def _lease_end():
    """How long a dispatched mail is left to its queued task before the sweep hands it out again (the task
    may be lost with Redis)."""
    return timezone.now() + timedelta(seconds=settings.OUTBOX_SWEEP_AFTER_SECONDS)


def retry_delay(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: doubling from OUTBOX_RETRY_BASE_SECONDS, capped at
    OUTBOX_RETRY_MAX_SECONDS so that a mail goes out within minutes of an SMTP server coming back."""
    seconds = settings.OUTBOX_RETRY_BASE_SECONDS * 2 ** min(attempts - 1, 20)
    return timedelta(seconds=min(seconds, settings.OUTBOX_RETRY_MAX_SECONDS))


def mail_dispatch(*, mail_id: int, attempt: int) -> None:
    """Hand a mail to Celery for its attempt number `attempt` + 1. A broker failure is logged, never
    raised: the sweep will hand it out again."""
    from chorus.outbox.tasks import outbox_mail_send

    try:
        outbox_mail_send.delay(mail_id, attempt)
    except Exception:
        logger.warning("Outbox mail %s not queued (broker unreachable); the sweep will send it.", mail_id)


def mail_headers(mail: OutboxMail) -> dict[str, str]:
    """Every header the outbox adds to a mail, built in this one place: the caller's own (List-Unsubscribe
    on reminders), then the Message-ID, which a caller cannot override."""
    return {**(mail.headers or {}), "Message-ID": mail.message_id}


def mail_message(mail: OutboxMail) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=mail.subject,
        body=mail.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=mail.recipients,
        headers=mail_headers(mail),
    )
    if mail.body_html:
        message.attach_alternative(mail.body_html, "text/html")
    return message


def mail_deliver(*, mail_id: int, attempt: int | None = None) -> OutboxMail | None:
    """Try to send one pending mail and record the attempt. When the SMTP server fails, the mail stays
    pending (with the error) and is due again after `retry_delay`; after OUTBOX_MAX_ATTEMPTS attempts it
    is marked failed.

    `attempt` is the number of attempts the row had when it was dispatched: a second dispatch of the same
    attempt (the sweep's lease ran out while the first task waited in a long queue) finds the count moved
    on and does nothing, so one failure is never followed at once by another attempt."""
    with transaction.atomic():
        # The lock makes a task and the sweep racing on the same row send it once.
        mail = OutboxMail.objects.select_for_update().filter(pk=mail_id).first()
        if mail is None or mail.status != OutboxMail.Status.PENDING:
            return mail
        if attempt is not None and mail.attempts != attempt:
            return mail
        mail.attempts += 1
        try:
            mail_message(mail).send()
        except Exception as exc:
            mail.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            mail.next_attempt_at = timezone.now() + retry_delay(mail.attempts)
            if mail.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
                mail.status = OutboxMail.Status.FAILED
                logger.error("Outbox mail %s failed after %s attempts: %s", mail.pk, mail.attempts, exc)
        else:
            mail.status = OutboxMail.Status.SENT
            mail.sent_at = timezone.now()
            mail.last_error = ""
        mail.save(
            update_fields=["attempts", "last_error", "status", "sent_at", "next_attempt_at", "updated_at"]
        )
    return mail


def mail_sweep() -> int:
    """Hand every pending mail whose next attempt is due to a worker (run by Celery beat every minute).

    Each handed-out mail gets a lease (OUTBOX_SWEEP_AFTER_SECONDS) so the next sweeps leave it alone while
    its task waits in the queue; rows a worker is sending right now are skipped."""
    now = timezone.now()
    with transaction.atomic():
        due = list(
            OutboxMail.objects.select_for_update(skip_locked=True)
            .filter(status=OutboxMail.Status.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at")
            .values_list("pk", "attempts")[:500]
        )
        OutboxMail.objects.filter(pk__in=[pk for pk, _ in due]).update(next_attempt_at=_lease_end())
    for mail_id, attempts in due:
        mail_dispatch(mail_id=mail_id, attempt=attempts)
    return len(due)


def mail_resend(*, mail_ids: list[int]) -> int:
    """Put failed or sent mails back in the queue (admin « renvoyer »)."""
    with transaction.atomic():
        ids = list(
            OutboxMail.objects.select_for_update().filter(pk__in=mail_ids).values_list("pk", flat=True)
        )
        OutboxMail.objects.filter(pk__in=ids).update(
            status=OutboxMail.Status.PENDING,
            attempts=0,
            last_error="",
            sent_at=None,
            next_attempt_at=_lease_end(),
            updated_at=timezone.now(),
        )
        for mail_id in ids:
            transaction.on_commit(lambda mail_id=mail_id: mail_dispatch(mail_id=mail_id, attempt=0))
    return len(ids)
