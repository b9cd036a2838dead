"""Reads across relations for « Mes rattachements », « Approbations » and « Historique de mes demandes »."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Count, FilteredRelation, Q, QuerySet

from accounts.models import User
from attachments.models import AttachmentRequest
from structures.models import Membership, Structure
from structures.validators import normalize_siret, validate_siret

MANAGER_ROLES = (Membership.Role.MAIN_MANAGER, Membership.Role.MANAGER)
PENDING = AttachmentRequest.Status.PENDING
DECIDED = (AttachmentRequest.Status.APPROVED, AttachmentRequest.Status.REFUSED)


@dataclass(frozen=True)
class ApprovalsSummary:
    manages_structures: bool
    pending_count: int


def approvals_summary(*, user: User) -> ApprovalsSummary:
    """Whether the user manages a structure and how many requests wait for them, in ONE query (it runs on
    every page, for the « Approbations » badge). The join keeps only pending rows, so it rides the partial
    index on pending requests however many decided requests a structure has."""
    totals = (
        Structure.objects.managed_by(user)
        .annotate(
            pending=FilteredRelation(
                "attachment_requests",
                condition=Q(attachment_requests__status=PENDING) & ~Q(attachment_requests__requester=user),
            )
        )
        .aggregate(structures=Count("pk", distinct=True), pending_count=Count("pending__pk"))
    )
    return ApprovalsSummary(
        manages_structures=totals["structures"] > 0, pending_count=totals["pending_count"]
    )


def approvals_for(*, user: User) -> QuerySet[AttachmentRequest]:
    """Every request the user may decide or has seen decided: those on structures they manage, never
    their own."""
    managed = Membership.objects.filter(user=user, is_active=True, role__in=MANAGER_ROLES).values(
        "structure_id"
    )
    return (
        AttachmentRequest.objects.filter(structure_id__in=managed)
        .exclude(requester=user)
        .select_related("requester", "structure", "service", "decided_by")
    )


def approval_list(*, user: User, decided: bool, newest_first: bool) -> QuerySet[AttachmentRequest]:
    """The « Approbations » list: « à traiter » (pending) or « traitées » (approved or refused)."""
    statuses = DECIDED if decided else (PENDING,)
    order = ("-created_at", "-pk") if newest_first else ("created_at", "pk")
    return approvals_for(user=user).filter(status__in=statuses).order_by(*order)


def history_for(*, user: User) -> QuerySet[AttachmentRequest]:
    """« Historique de mes demandes »: the user's own requests, newest first."""
    return (
        AttachmentRequest.objects.filter(requester=user)
        .select_related("requester", "structure", "service", "decided_by")
        .order_by("-created_at", "-pk")
    )


def memberships_of(*, user: User) -> QuerySet[Membership]:
    """« Mes rattachements »: every structure the user is attached to."""
    return (
        Membership.objects.filter(user=user, is_active=True)
        .select_related("structure")
        .order_by("structure__name", "structure__siret")
    )


def main_manager_of(*, structure: Structure) -> User | None:
    """The « Approbateur » of a pending request: whom a requester waiting too long should contact."""
    membership = (
        Membership.objects.filter(structure=structure, is_active=True, role=Membership.Role.MAIN_MANAGER)
        .select_related("user")
        .first()
    )
    return membership.user if membership else None


@dataclass(frozen=True)
class BulkLine:
    """One SIRET of a bulk attachment request, as the report shows it."""

    typed: str
    siret: str
    structure: Structure | None
    verdict: str  # "ok", "invalid", "duplicate", "unknown", "attached", "pending"
    message: str

    @property
    def is_ok(self) -> bool:
        return self.verdict == "ok"


def bulk_check(*, user: User, entries: list[str]) -> list[BulkLine]:
    """Check each SIRET typed (checksum, known structure, already attached, already pending), in three
    queries whatever the number of SIRETs."""
    sirets = []
    for typed in entries:
        siret = normalize_siret(typed)
        try:
            validate_siret(siret)
        except ValidationError:
            siret = ""
        sirets.append(siret)
    valid = {siret for siret in sirets if siret}
    structures = {s.siret: s for s in Structure.objects.filter(siret__in=valid)}
    ids = [s.pk for s in structures.values()]
    attached = set(
        Membership.objects.filter(user=user, is_active=True, structure_id__in=ids).values_list(
            "structure_id", flat=True
        )
    )
    pending = set(
        AttachmentRequest.objects.filter(requester=user, status=PENDING, structure_id__in=ids).values_list(
            "structure_id", flat=True
        )
    )
    seen: set[str] = set()
    lines = []
    for typed, siret in zip(entries, sirets, strict=True):
        structure = structures.get(siret)
        if not siret:
            verdict, message = "invalid", "Numéro SIRET invalide : 14 chiffres dont la clé de contrôle."
        elif siret in seen:
            verdict, message = "duplicate", "En double dans la liste : une seule demande sera envoyée."
        elif structure is None:
            verdict, message = "unknown", "Aucune structure n'est enregistrée sur le portail avec ce SIRET."
        elif structure.pk in attached:
            verdict, message = "attached", "Vous êtes déjà rattaché à cette structure."
        elif structure.pk in pending:
            verdict, message = (
                "pending",
                "Une demande de rattachement est déjà en attente pour cette structure.",
            )
        else:
            verdict, message = "ok", "Prête à être envoyée."
        seen.add(siret)
        lines.append(
            BulkLine(typed=typed, siret=siret, structure=structure, verdict=verdict, message=message)
        )
    return lines
