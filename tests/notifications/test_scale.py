"""The daily job selects with a fixed number of queries whatever the number of structures."""

from datetime import datetime, timedelta

import pytest

from attachments.models import AttachmentRequest
from notifications.selectors import reminders_due
from notifications.services import reminders_send_due
from tests.factories import AttachmentRequestFactory, MembershipFactory, StructureFactory, UserFactory
from tests.notifications.conftest import CLOSES, PARIS

LONG_AGO = datetime(2026, 1, 5, 10, tzinfo=PARIS)

pytestmark = pytest.mark.django_db


def firm_with(count):
    """One firm user managing `count` clients, each with a pending attachment request."""
    firm = UserFactory()
    for _ in range(count):
        structure = StructureFactory()
        MembershipFactory(user=firm, structure=structure, manager=True)
        AttachmentRequestFactory(structure=structure)
    return firm


@pytest.mark.parametrize("count", [10, 120])
def test_selecting_due_reminders_takes_the_same_queries_at_any_size(count, django_assert_max_num_queries):
    firm_with(count)
    AttachmentRequest.objects.update(created_at=LONG_AGO)

    with django_assert_max_num_queries(8):
        due = list(reminders_due(CLOSES - timedelta(days=30)))
    # Closing for every client, and every pending request to the firm and to its requester.
    assert len(due) == 3 * count


@pytest.mark.parametrize("count", [10, 120])
def test_a_firms_whole_run_takes_the_same_queries_at_any_size(count, django_assert_max_num_queries):
    firm_with(count)
    with django_assert_max_num_queries(22):
        summary = reminders_send_due(today=CLOSES - timedelta(days=30))
    assert summary.created == count
    assert summary.digests == 1
