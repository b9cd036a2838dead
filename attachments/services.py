"""Every write on attachment requests (« demandes de rattachement »).

Each function runs in one transaction and locks the request it decides on, so two managers deciding the
same request at the same moment give one decision, one membership and one mail; a rule that says no
raises `AttachmentRequestError` with a French message the view shows as is.

Approval creates the `Membership` here, directly: structures/ has no service for attaching a member.
"""

from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format

from accounts.models import User
from attachments.models import AttachmentRequest
from attachments.selectors import MANAGER_ROLES, PENDING
from chorus.outbox.services import mail_queue
from structures.models import Membership, Service, Structure

REFUSAL_REASON_MAX_LENGTH = AttachmentRequest._meta.get_field("refusal_reason").max_length
BULK_APPROVAL_MAX = 100


class AttachmentRequestError(Exception):
    """A business rule refused the change; `message` is shown to the user as is."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class AlreadyDecided(AttachmentRequestError):
    """Someone else decided (or the requester cancelled) before this decision."""


@dataclass
class BulkApprovalResult:
    approved: list[AttachmentRequest] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # why each skipped request was left alone


def attachment_request_create(
    *, requester: User, structure: Structure, service: Service | None = None, comment: str = ""
) -> AttachmentRequest:
    """File a « demande de rattachement »; every manager of the structure gets a mail."""
    if service is not None and service.structure_id != structure.pk:
        raise AttachmentRequestError("Ce service n'appartient pas à la structure indiquée.")
    with transaction.atomic(durable=True):
        if Membership.objects.filter(user=requester, structure=structure, is_active=True).exists():
            raise AttachmentRequestError(f"Vous êtes déjà rattaché à la structure {structure.name}.")
        duplicate = AttachmentRequestError(
            f"Vous avez déjà une demande de rattachement en attente pour la structure {structure.name} : "
            "retrouvez-la dans « Historique de mes demandes »."
        )
        if AttachmentRequest.objects.filter(
            requester=requester, structure=structure, status=AttachmentRequest.Status.PENDING
        ).exists():
            raise duplicate
        try:
            # A savepoint: the partial unique index settles two simultaneous submissions.
            with transaction.atomic():
                attachment_request = AttachmentRequest.objects.create(
                    requester=requester, structure=structure, service=service, comment=comment.strip()
                )
        except IntegrityError as exc:
            raise duplicate from exc
        managers = User.objects.filter(
            is_active=True,
            memberships__structure=structure,
            memberships__is_active=True,
            memberships__role__in=MANAGER_ROLES,
        ).order_by("pk")
        for manager in managers:
            mail_queue(
                to=[manager.contact_address],
                template="attachments/emails/request_received",
                context={"attachment_request": attachment_request, "manager": manager},
            )
    return attachment_request


def attachment_requests_create_many(
    *, requester: User, sirets: list[str], comment: str = ""
) -> list[AttachmentRequest]:
    """« Soumettre » a bulk attachment request: one request per structure, in one transaction; the SIRETs
    already attached or pending by now are skipped (the report was checked earlier, things may have moved).
    Each manager gets ONE mail listing the new requests of the structures they manage, however many."""
    with transaction.atomic(durable=True):
        structures = Structure.objects.filter(siret__in=set(sirets)).exclude(
            Q(memberships__user=requester, memberships__is_active=True)
            | Q(attachment_requests__requester=requester, attachment_requests__status=PENDING)
        )
        structures = list(structures.distinct().order_by("name"))
        try:
            # A savepoint: the partial unique index settles a simultaneous submission of the same SIRET.
            with transaction.atomic():
                created = AttachmentRequest.objects.bulk_create(
                    AttachmentRequest(requester=requester, structure=structure, comment=comment.strip())
                    for structure in structures
                )
        except IntegrityError as exc:
            raise AttachmentRequestError(
                "Une de ces demandes vient d'être envoyée par ailleurs : vérifiez de nouveau la liste."
            ) from exc
        by_structure = {attachment_request.structure_id: attachment_request for attachment_request in created}
        structures_by_id = {structure.pk: structure for structure in structures}
        for attachment_request in created:
            attachment_request.requester = requester
            attachment_request.structure = structures_by_id[attachment_request.structure_id]
        memberships = (
            Membership.objects.filter(
                structure_id__in=by_structure,
                is_active=True,
                role__in=MANAGER_ROLES,
                user__is_active=True,
            )
            .exclude(user=requester)
            .select_related("user")
            .order_by("user_id", "structure__name")
        )
        requests_by_manager: dict[int, tuple[User, list[AttachmentRequest]]] = {}
        for membership in memberships:
            manager, requests = requests_by_manager.setdefault(membership.user_id, (membership.user, []))
            requests.append(by_structure[membership.structure_id])
        for manager, requests in requests_by_manager.values():
            mail_queue(
                to=[manager.contact_address],
                template="attachments/emails/requests_received",
                context={
                    "requester": requester,
                    "requests": requests,
                    "manager": manager,
                    "comment": comment,
                },
            )
    return created


def _lock_for_decision(*, attachment_request_id: int) -> AttachmentRequest:
    attachment_request = (
        AttachmentRequest.objects.select_for_update(of=("self",))
        .select_related("requester", "structure", "service", "decided_by")
        .filter(pk=attachment_request_id)
        .first()
    )
    if attachment_request is None:
        raise AttachmentRequestError("Cette demande de rattachement n'existe pas.")
    return attachment_request


def _check_can_decide(
    attachment_request: AttachmentRequest, *, decided_by: User, by_administrator: bool
) -> None:
    """Run on the locked row: whoever waited for the lock now sees the other manager's decision."""
    if attachment_request.status == AttachmentRequest.Status.CANCELLED:
        raise AlreadyDecided("Cette demande a été annulée par son demandeur.")
    if not attachment_request.is_pending:
        decider = attachment_request.decided_by.get_full_name() if attachment_request.decided_by else ""
        when = date_format(timezone.localtime(attachment_request.decided_at), "DATETIME_FORMAT")
        raise AlreadyDecided(
            f"Cette demande a déjà été traitée : {attachment_request.get_status_display().lower()} "
            f"par {decider} le {when}."
        )
    if attachment_request.requester_id == decided_by.pk:
        raise AttachmentRequestError("Vous ne pouvez pas décider de votre propre demande de rattachement.")
    if by_administrator:
        return
    is_manager = Membership.objects.filter(
        user=decided_by, structure_id=attachment_request.structure_id, is_active=True, role__in=MANAGER_ROLES
    ).exists()
    if not is_manager:
        raise AttachmentRequestError(
            "Seuls les gestionnaires de la structure peuvent approuver ou refuser cette demande."
        )


def _approve(attachment_request: AttachmentRequest, *, decided_by: User) -> None:
    already_member = Membership.objects.filter(
        user_id=attachment_request.requester_id, structure_id=attachment_request.structure_id, is_active=True
    ).exists()
    if not already_member:
        Membership.objects.create(
            user_id=attachment_request.requester_id,
            structure_id=attachment_request.structure_id,
            role=Membership.Role.MEMBER,
            updated_by=decided_by,
        )
    attachment_request.status = AttachmentRequest.Status.APPROVED
    attachment_request.decided_by = decided_by
    attachment_request.decided_at = timezone.now()
    attachment_request.save(update_fields=["status", "decided_by", "decided_at"])
    mail_queue(
        to=[attachment_request.requester.contact_address],
        template="attachments/emails/request_approved",
        context={"attachment_request": attachment_request},
    )


def attachment_request_approve(
    *, attachment_request_id: int, decided_by: User, by_administrator: bool = False
) -> AttachmentRequest:
    """Approve: the requester becomes a member (« Utilisateur ») of the structure and gets a mail.

    `by_administrator` is for the Django admin, whose staff decide without being managers."""
    with transaction.atomic(durable=True):
        attachment_request = _lock_for_decision(attachment_request_id=attachment_request_id)
        _check_can_decide(attachment_request, decided_by=decided_by, by_administrator=by_administrator)
        _approve(attachment_request, decided_by=decided_by)
    return attachment_request


def attachment_request_approve_many(
    *, attachment_request_ids: list[int], decided_by: User, by_administrator: bool = False
) -> BulkApprovalResult:
    """Approve several requests at once. Each is decided under its own lock (taken in id order, so two
    managers approving overlapping selections never deadlock); one already decided is skipped and said."""
    ids = sorted(set(attachment_request_ids))
    if not ids:
        raise AttachmentRequestError("Sélectionnez au moins une demande à approuver.")
    if len(ids) > BULK_APPROVAL_MAX:
        raise AttachmentRequestError(f"Approuvez au plus {BULK_APPROVAL_MAX} demandes à la fois.")
    result = BulkApprovalResult()
    with transaction.atomic(durable=True):
        locked = (
            AttachmentRequest.objects.select_for_update(of=("self",))
            .select_related("requester", "structure", "service", "decided_by")
            .filter(pk__in=ids)
            .order_by("pk")
        )
        for attachment_request in locked:
            try:
                _check_can_decide(
                    attachment_request, decided_by=decided_by, by_administrator=by_administrator
                )
            except AttachmentRequestError as exc:
                result.skipped.append(f"{attachment_request.description} : {exc.message}")
                continue
            _approve(attachment_request, decided_by=decided_by)
            result.approved.append(attachment_request)
    return result


def attachment_request_refuse(
    *, attachment_request_id: int, decided_by: User, reason: str, by_administrator: bool = False
) -> AttachmentRequest:
    """Refuse with a reason, which the requester receives by mail and reads in their history."""
    reason = (reason or "").strip()
    if not reason:
        raise AttachmentRequestError("Indiquez le motif du refus : il est transmis au demandeur.")
    if len(reason) > REFUSAL_REASON_MAX_LENGTH:
        raise AttachmentRequestError(
            f"Le motif du refus ne doit pas dépasser {REFUSAL_REASON_MAX_LENGTH} caractères."
        )
    with transaction.atomic(durable=True):
        attachment_request = _lock_for_decision(attachment_request_id=attachment_request_id)
        _check_can_decide(attachment_request, decided_by=decided_by, by_administrator=by_administrator)
        attachment_request.status = AttachmentRequest.Status.REFUSED
        attachment_request.decided_by = decided_by
        attachment_request.decided_at = timezone.now()
        attachment_request.refusal_reason = reason
        attachment_request.save(update_fields=["status", "decided_by", "decided_at", "refusal_reason"])
        mail_queue(
            to=[attachment_request.requester.contact_address],
            template="attachments/emails/request_refused",
            context={"attachment_request": attachment_request},
        )
    return attachment_request


def attachment_request_cancel(*, attachment_request_id: int, requester: User) -> AttachmentRequest:
    """The requester withdraws a pending request."""
    with transaction.atomic(durable=True):
        attachment_request = (
            AttachmentRequest.objects.select_for_update(of=("self",))
            .select_related("structure")
            .filter(pk=attachment_request_id, requester=requester)
            .first()
        )
        if attachment_request is None:
            raise AttachmentRequestError("Cette demande de rattachement n'existe pas.")
        if not attachment_request.is_pending:
            raise AlreadyDecided(
                "Cette demande ne peut plus être annulée : elle est "
                f"{attachment_request.get_status_display().lower()}."
            )
        attachment_request.status = AttachmentRequest.Status.CANCELLED
        attachment_request.save(update_fields=["status"])
    return attachment_request
