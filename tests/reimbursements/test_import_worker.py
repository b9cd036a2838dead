"""The import's phases against a real Celery worker and Redis broker (whenever REDIS_URL is set, as in CI):
the page only reads the job row, which the worker updates."""

import os
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.urls import reverse

from chorus import celery_app
from reimbursements.import_models import ImportJob
from reimbursements.models import RefundLine
from tests.reimbursements.test_import import GOOD_FILES, GOOD_ROWS, firm_user, invoices_zip, lines_csv, send  # noqa: F401

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("REDIS_URL"), reason="REDIS_URL not set: no Redis for a real worker"
    ),
]


@pytest.fixture
def celery_worker():
    conf = celery_app.conf
    saved = conf.task_always_eager
    conf.task_always_eager = False
    celery_app.control.purge()
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as worker:
        yield worker
    conf.task_always_eager = saved


def _wait(job: ImportJob, status: str) -> ImportJob:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status == status:
            return job
        time.sleep(0.1)
    raise AssertionError(f"job stayed {job.status}")


def test_check_and_import_run_in_the_worker(client, firm_user, celery_worker):  # noqa: F811
    client.force_login(firm_user)
    response = send(client, lines_csv(*GOOD_ROWS), invoices_zip(*GOOD_FILES))
    job = ImportJob.objects.get()
    assert response.url == reverse("reimbursements:import_job", kwargs={"pk": job.pk})
    job = _wait(job, "checked")
    assert [row["outcome"] for row in job.rows] == ["ok"] * 3
    client.post(reverse("reimbursements:import_job_start", kwargs={"pk": job.pk}))
    job = _wait(job, "imported")
    assert RefundLine.objects.count() == 3 and job.done == job.total == 3
