"""Rules the services enforce themselves, whoever calls them (views, admin, tasks)."""

import pytest
from django.db import IntegrityError, transaction

from attachments.models import AttachmentRequest
from attachments.services import (
    AttachmentRequestError,
    attachment_request_approve,
    attachment_request_approve_many,
    attachment_request_create,
    attachment_request_refuse,
)
from tests.factories import AttachmentRequestFactory, MembershipFactory, ServiceFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_nobody_decides_their_own_request_not_even_an_administrator(pending, accountant):
    with pytest.raises(AttachmentRequestError, match="votre propre demande"):
        attachment_request_approve(
            attachment_request_id=pending.pk, decided_by=accountant, by_administrator=True
        )


def test_a_plain_member_cannot_decide(pending, farm):
    member = MembershipFactory(structure=farm).user
    with pytest.raises(AttachmentRequestError, match="Seuls les gestionnaires"):
        attachment_request_refuse(attachment_request_id=pending.pk, decided_by=member, reason="Non.")
    pending.refresh_from_db()
    assert pending.status == "pending"


def test_refusal_without_reason_is_refused_by_the_service(pending, manager):
    with pytest.raises(AttachmentRequestError, match="motif du refus"):
        attachment_request_refuse(attachment_request_id=pending.pk, decided_by=manager, reason=" \n ")


def test_database_refuses_a_refusal_without_reason(pending, manager):
    with pytest.raises(IntegrityError), transaction.atomic():
        AttachmentRequest.objects.filter(pk=pending.pk).update(
            status="refused", decided_by=manager, decided_at="2026-01-01T00:00Z", refusal_reason=""
        )


def test_database_refuses_a_decision_without_approver(pending):
    with pytest.raises(IntegrityError), transaction.atomic():
        AttachmentRequest.objects.filter(pk=pending.pk).update(status="approved")


def test_service_must_belong_to_the_structure(farm, manager):
    with pytest.raises(AttachmentRequestError, match="Ce service n'appartient pas"):
        attachment_request_create(requester=UserFactory(), structure=farm, service=ServiceFactory())


def test_bulk_approval_needs_a_selection(manager):
    with pytest.raises(AttachmentRequestError, match="Sélectionnez au moins une demande"):
        attachment_request_approve_many(attachment_request_ids=[], decided_by=manager)


def test_bulk_approval_by_a_manager_skips_requests_of_other_structures(pending, manager):
    elsewhere = AttachmentRequestFactory()
    result = attachment_request_approve_many(
        attachment_request_ids=[pending.pk, elsewhere.pk], decided_by=manager
    )
    assert result.approved == [pending]
    assert len(result.skipped) == 1
    elsewhere.refresh_from_db()
    assert elsewhere.status == "pending"
