from celery import shared_task

from chorus.outbox.models import OutboxMail
from chorus.outbox.services import mail_deliver, mail_sweep

RETRY_BASE_SECONDS = 30
RETRY_MAX_SECONDS = 30 * 60


@shared_task
def outbox_mail_send(mail_id: int) -> None:
    mail = mail_deliver(mail_id=mail_id)
    if mail is not None and mail.status == OutboxMail.Status.PENDING:
        # The attempt failed and attempts remain: try again later, with exponential back-off.
        countdown = min(RETRY_BASE_SECONDS * 2 ** (mail.attempts - 1), RETRY_MAX_SECONDS)
        outbox_mail_send.apply_async((mail_id,), countdown=countdown)


@shared_task
def outbox_sweep() -> int:
    return mail_sweep()
