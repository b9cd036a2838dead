"""Two managers deciding the same request at the same moment, each on their own PostgreSQL connection."""

import threading

import pytest
from django.db import connection, connections

from attachments.models import AttachmentRequest
from attachments.services import (
    AttachmentRequestError,
    attachment_request_approve,
    attachment_request_approve_many,
    attachment_request_create,
    attachment_request_refuse,
)
from chorus.outbox.models import OutboxMail
from structures.models import Membership
from tests.factories import AttachmentRequestFactory, MembershipFactory, StructureFactory, UserFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]

ROUNDS = 5


def run_together(*calls):
    """Start every call at the same instant in its own thread (its own connection); return what each raised
    or returned."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def worker(index, call):
        try:
            barrier.wait()
            outcomes[index] = call()
        except Exception as exc:
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


@pytest.fixture
def structure_with_two_managers():
    structure = StructureFactory()
    first = MembershipFactory(structure=structure, main_manager=True).user
    second = MembershipFactory(structure=structure, manager=True).user
    return structure, first, second


def assert_one_decision(outcomes, attachment_request):
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert len(errors) == 1, outcomes
    assert isinstance(errors[0], AttachmentRequestError)
    assert "déjà été traitée" in errors[0].message
    attachment_request.refresh_from_db()
    winner = next(o for o in outcomes if isinstance(o, AttachmentRequest))
    assert attachment_request.status == winner.status
    assert attachment_request.decided_by == winner.decided_by
    decided_mails = OutboxMail.objects.filter(recipients__contains=[attachment_request.requester.email])
    assert decided_mails.count() == 1
    memberships = Membership.objects.filter(
        user=attachment_request.requester, structure=attachment_request.structure
    )
    assert memberships.count() == (1 if attachment_request.status == "approved" else 0)


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_two_managers_approving_at_once_give_one_membership_and_one_mail(structure_with_two_managers, round_):
    structure, first, second = structure_with_two_managers
    attachment_request = AttachmentRequestFactory(structure=structure)
    outcomes = run_together(
        lambda: attachment_request_approve(attachment_request_id=attachment_request.pk, decided_by=first),
        lambda: attachment_request_approve(attachment_request_id=attachment_request.pk, decided_by=second),
    )
    assert_one_decision(outcomes, attachment_request)


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_approval_and_refusal_at_once_give_one_decision(structure_with_two_managers, round_):
    structure, first, second = structure_with_two_managers
    attachment_request = AttachmentRequestFactory(structure=structure)
    outcomes = run_together(
        lambda: attachment_request_approve(attachment_request_id=attachment_request.pk, decided_by=first),
        lambda: attachment_request_refuse(
            attachment_request_id=attachment_request.pk, decided_by=second, reason="Inconnu."
        ),
    )
    assert_one_decision(outcomes, attachment_request)


def test_overlapping_bulk_approvals_approve_each_request_once(structure_with_two_managers):
    structure, first, second = structure_with_two_managers
    requests = AttachmentRequestFactory.create_batch(6, structure=structure)
    ids = [r.pk for r in requests]
    outcomes = run_together(
        lambda: attachment_request_approve_many(attachment_request_ids=ids, decided_by=first),
        lambda: attachment_request_approve_many(
            attachment_request_ids=list(reversed(ids)), decided_by=second
        ),
    )
    assert not any(isinstance(o, Exception) for o in outcomes), outcomes
    assert sum(len(o.approved) for o in outcomes) == 6
    assert sum(len(o.skipped) for o in outcomes) == 6
    assert Membership.objects.filter(structure=structure, role="member").count() == 6
    assert OutboxMail.objects.filter(template="attachments/emails/request_approved").count() == 6


def test_double_submission_files_one_request_and_mails_the_manager_once(structure_with_two_managers):
    structure, _, _ = structure_with_two_managers
    requester = UserFactory()
    outcomes = run_together(
        lambda: attachment_request_create(requester=requester, structure=structure),
        lambda: attachment_request_create(requester=requester, structure=structure),
    )
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert len(errors) == 1, outcomes
    assert "déjà une demande de rattachement en attente" in errors[0].message
    assert AttachmentRequest.objects.filter(requester=requester, structure=structure).count() == 1
    assert (
        OutboxMail.objects.filter(template="attachments/emails/request_received").count() == 2
    )  # two managers
