"""Celery tasks of the bulk jobs: each loads the job by id and calls its service (the job row holds the
progress and the outcome; a task re-run after a worker loss finds the phase done, or redoes it without
adding a line twice)."""

import logging

from celery import shared_task
from django.db import transaction

from reimbursements import import_services
from reimbursements.import_models import ImportJob

logger = logging.getLogger(__name__)
UNAVAILABLE = "Le service de traitement est momentanément indisponible : envoyez le fichier de nouveau dans quelques minutes."

PHASES = {
    ImportJob.Status.CHECKING: import_services.import_check,
    ImportJob.Status.IMPORTING: import_services.import_run,
    ImportJob.Status.FILING: import_services.filing_run,
}


@shared_task(name="reimbursements.import_job_run")
def import_job_run(job_id: int) -> None:
    status = ImportJob.objects.filter(pk=job_id).values_list("status", flat=True).first()
    if status in PHASES:
        PHASES[status](job_id=job_id)


def import_job_enqueue(job: ImportJob) -> None:
    """Run the job's current phase in a worker once the transaction that set it has committed. When the
    broker cannot take it, the job says so instead of showing a progress bar that never moves (starting
    again is safe: an import never adds a line twice)."""

    def send():
        try:
            import_job_run.delay(job.pk)
        except Exception:
            logger.exception("Could not queue import job %s", job.pk)
            ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.FAILED, error=UNAVAILABLE)

    transaction.on_commit(send)
