from celery import shared_task

from notifications.services import reminders_send_due


@shared_task
def reminders_daily() -> dict:
    """Celery beat's daily run. Safe to run twice or from two beats: each reminder is a unique row."""
    summary = reminders_send_due()
    return {
        "created": summary.created,
        "mails": summary.mails,
        "digests": summary.digests,
        "skipped": summary.skipped,
    }
