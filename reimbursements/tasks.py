"""Celery tasks of the bulk jobs: each loads the job by id and calls its service (the job row holds the
progress and the outcome; a task re-run after a worker loss finds the phase done, or redoes it without
adding a line twice)."""

from celery import shared_task
from django.db import transaction

from reimbursements import import_services
from reimbursements.import_models import ImportJob

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
    """Run the job's current phase in a worker once the transaction that set it has committed."""
    transaction.on_commit(lambda: import_job_run.delay(job.pk))
