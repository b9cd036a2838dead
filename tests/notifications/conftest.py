from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from notifications.services import reminders_send_due
from reimbursements.models import Campaign, RefundRequest

PARIS = ZoneInfo("Europe/Paris")
# Seeded campaign 2023 closes on 31 December 2026; 2024 and 2025 have no rates yet, 2022 closed a year before.
CLOSES = date(2026, 12, 31)


@pytest.fixture
def run_on(django_capture_on_commit_callbacks):
    """Run the daily job at 07:30 in Paris on `day`, as beat does; return the mails it sent."""

    def _run(day: date):
        before = len(mail.outbox)
        moment = datetime.combine(day, time(7, 30), tzinfo=PARIS)
        with time_machine.travel(moment, tick=False), django_capture_on_commit_callbacks(execute=True):
            reminders_send_due()
        return mail.outbox[before:]

    return _run


@pytest.fixture
def https_site(settings):
    settings.SITE_URL = "https://chorus-agri.example"
    return settings.SITE_URL


def refund_request(structure, year, status=RefundRequest.Status.FILED, *, by=None):
    """A request in `status` (filed ones numbered), without lines: reminders only look at the status."""
    by = by or structure.created_by
    filed = status != RefundRequest.Status.DRAFT
    return RefundRequest.objects.create(
        structure=structure,
        campaign=Campaign.objects.get(year=year),
        status=status,
        number=f"TIC-{year}-{RefundRequest.objects.count() + 1:06d}" if filed else None,
        filed_at=timezone.now() if filed else None,
        filed_by=by if filed else None,
        created_by=by,
    )


def recipients(mails) -> list[str]:
    return sorted(address for message in mails for address in message.to)
