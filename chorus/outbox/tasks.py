from celery import shared_task

from chorus.outbox.services import mail_deliver, mail_sweep


@shared_task
def outbox_mail_send(mail_id: int, attempt: int | None = None) -> None:
    """One attempt. A failed attempt is not retried from here: the row records when it is due again, and
    the beat sweep hands it out then (a delayed Celery task would be lost with the broker)."""
    mail_deliver(mail_id=mail_id, attempt=attempt)


@shared_task
def outbox_sweep() -> int:
    return mail_sweep()
