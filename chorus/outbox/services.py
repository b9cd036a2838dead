"""The durable mail outbox: queue a mail in the caller's transaction, deliver it after commit.

Nothing is sent for a rolled-back change (the row and the on-commit hook vanish with the transaction),
and nothing is lost when Redis is down at commit time: the row stays pending and the periodic sweep
queues it again.
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


def mail_queue(
    *, to: list[str], template: str, context: dict | None = None, headers: dict[str, str] | None = None
) -> OutboxMail:
    """Render `templates/<template>_subject.txt`, `_body.txt` and (optional) `_body.html`, store the mail,
    and send it once the current transaction commits.

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
    mail = OutboxMail.objects.create(
        recipients=list(to),
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        template=template,
        headers=dict(headers or {}),
    )
    transaction.on_commit(lambda: mail_dispatch(mail_id=mail.pk))
    return mail


def mail_dispatch(*, mail_id: int) -> None:
    """Hand a mail to Celery. A broker failure is logged, never raised: the sweep will retry."""
    from chorus.outbox.tasks import outbox_mail_send

    try:
        outbox_mail_send.delay(mail_id)
    except Exception:
        logger.warning("Outbox mail %s not queued (broker unreachable); the sweep will send it.", mail_id)


def mail_deliver(*, mail_id: int) -> OutboxMail | None:
    """Try to send one pending mail and record the attempt. When the SMTP server fails, the mail stays
    pending (with the error) until it has used OUTBOX_MAX_ATTEMPTS attempts, then it is marked failed."""
    with transaction.atomic():
        # The lock makes a task and the sweep racing on the same row send it once.
        mail = OutboxMail.objects.select_for_update().filter(pk=mail_id).first()
        if mail is None or mail.status != OutboxMail.Status.PENDING:
            return mail
        message = EmailMultiAlternatives(
            subject=mail.subject,
            body=mail.body_text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=mail.recipients,
            headers=mail.headers or None,
        )
        if mail.body_html:
            message.attach_alternative(mail.body_html, "text/html")
        mail.attempts += 1
        try:
            message.send()
        except Exception as exc:
            mail.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if mail.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
                mail.status = OutboxMail.Status.FAILED
                logger.error("Outbox mail %s failed after %s attempts: %s", mail.pk, mail.attempts, exc)
        else:
            mail.status = OutboxMail.Status.SENT
            mail.sent_at = timezone.now()
            mail.last_error = ""
        mail.save(update_fields=["attempts", "last_error", "status", "sent_at", "updated_at"])
    return mail


def mail_sweep() -> int:
    """Queue again every mail still pending after OUTBOX_SWEEP_AFTER_SECONDS without any activity."""
    threshold = timezone.now() - timedelta(seconds=settings.OUTBOX_SWEEP_AFTER_SECONDS)
    stale = list(
        OutboxMail.objects.filter(status=OutboxMail.Status.PENDING, updated_at__lt=threshold)
        .order_by("updated_at")
        .values_list("pk", flat=True)[:500]
    )
    for mail_id in stale:
        mail_dispatch(mail_id=mail_id)
    return len(stale)


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
            updated_at=timezone.now(),
        )
        for mail_id in ids:
            transaction.on_commit(lambda mail_id=mail_id: mail_dispatch(mail_id=mail_id))
    return len(ids)
