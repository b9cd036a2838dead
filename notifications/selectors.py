"""Which reminders are due on a given day: a few set-based queries per kind, never one per structure.

Each occasion has a window rather than a single day (« 30 days before closing » is due from that day until
the 7-day one), so a day the beat missed is caught up the next day; the unique row keeps it to one mail.
"""

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Exists, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from attachments.models import AttachmentRequest
from notifications.models import Kind, OptOut
from reimbursements.models import Advance, Campaign, RefundEvent, RefundRequest
from structures.models import Membership

MANAGER_ROLES = [Membership.Role.MAIN_MANAGER, Membership.Role.MANAGER]
# A campaign's opening is announced during its first weeks (a beat that was down catches up), not later.
OPENING_WINDOW = timedelta(days=30)
CLOSING_OCCASIONS = (90, 30, 7)  # days before a campaign closes
TO_COMPLETE_OCCASIONS = (7, 21)  # days a request has been « À compléter »
ATTACHMENT_PENDING_DAYS = 7


@dataclass(frozen=True)
class Due:
    recipient_id: int
    kind: str
    structure_id: int
    object_id: int
    occasion: str


def _opted_in(kind: str, user_field: str = "user") -> Exists:
    return ~Exists(OptOut.objects.filter(user=OuterRef(user_field), kind=kind))


def _reachable_members(kind: str, *, managers_only: bool = False):
    """Active memberships of active accounts that did not switch `kind` off."""
    memberships = Membership.objects.filter(_opted_in(kind), is_active=True, user__is_active=True)
    if managers_only:
        memberships = memberships.filter(role__in=MANAGER_ROLES)
    return memberships


def _filed(campaign_filter: dict) -> Exists:
    return Exists(
        RefundRequest.objects.filter(structure=OuterRef("structure"), **campaign_filter).exclude(
            status=RefundRequest.Status.DRAFT
        )
    )


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def campaign_opening_due(today: date) -> Iterator[Due]:
    """A campaign opens → the managers of structures that filed the year before (and not yet this year)."""
    campaigns = Campaign.objects.open_on(today).filter(opens_on__gt=today - OPENING_WINDOW)
    for campaign in campaigns:
        rows = (
            _reachable_members(Kind.CAMPAIGN_OPEN, managers_only=True)
            .filter(_filed({"campaign__year": campaign.year - 1}))
            .exclude(_filed({"campaign": campaign}))
            .values_list("user_id", "structure_id")
        )
        for user_id, structure_id in rows.iterator(chunk_size=2000):
            yield Due(user_id, Kind.CAMPAIGN_OPEN, structure_id, campaign.pk, "open")


def closing_occasion(days_left: int, prefix: str = "close") -> str | None:
    """The occasion whose window contains `days_left`: 90 → « close-90 » until 31 days left, and so on."""
    if days_left < 0 or days_left > CLOSING_OCCASIONS[0]:
        return None
    reached = [days for days in CLOSING_OCCASIONS if days_left <= days]
    return f"{prefix}-{reached[-1]}"


def campaign_closing_due(today: date) -> Iterator[Due]:
    """90, 30 and 7 days before a campaign closes → the members of structures with no filed request for
    that year (a draft is not filed)."""
    campaigns = Campaign.objects.open_on(today).filter(
        closes_on__lte=today + timedelta(days=CLOSING_OCCASIONS[0])
    )
    for campaign in campaigns:
        occasion = closing_occasion((campaign.closes_on - today).days)
        rows = (
            _reachable_members(Kind.CAMPAIGN_CLOSING)
            # An accounting firm's own structure files nothing itself: its clients' structures do.
            .exclude(structure__is_management_centre=True)
            .exclude(_filed({"campaign": campaign}))
            .values_list("user_id", "structure_id")
        )
        for user_id, structure_id in rows.iterator(chunk_size=2000):
            yield Due(user_id, Kind.CAMPAIGN_CLOSING, structure_id, campaign.pk, occasion)


def to_complete_occasion(since: date, today: date) -> str | None:
    """« 2025-06-02/7 »: the day the request became « À compléter » (a request may return to that state
    after being completed, and each time counts again) and the number of days reached."""
    reached = [days for days in TO_COMPLETE_OCCASIONS if (today - since).days >= days]
    return f"{since.isoformat()}/{reached[-1]}" if reached else None


def request_to_complete_due(today: date) -> Iterator[Due]:
    """A request « À compléter » for 7 and 21 days → its filer and the structure's managers."""
    kind = Kind.REQUEST_TO_COMPLETE
    since = Subquery(
        RefundEvent.objects.filter(request=OuterRef("pk"), to_status=RefundRequest.Status.TO_COMPLETE)
        .order_by("-created_at", "-pk")
        .values("created_at")[:1]
    )
    requests = (
        RefundRequest.objects.filter(status=RefundRequest.Status.TO_COMPLETE)
        .annotate(since=since, filer_opted_in=_opted_in(kind, "filed_by"))
        .filter(since__lt=_start_of(today - timedelta(days=TO_COMPLETE_OCCASIONS[0] - 1)))
        .values_list("pk", "structure_id", "since", "filed_by_id", "filed_by__is_active", "filer_opted_in")
    )
    occasions = {}
    for pk, structure_id, since_at, filer_id, filer_active, filer_opted_in in requests.iterator(
        chunk_size=2000
    ):
        occasion = to_complete_occasion(timezone.localdate(since_at), today)
        occasions[pk] = occasion
        if filer_id and filer_active and filer_opted_in:
            yield Due(filer_id, kind, structure_id, pk, occasion)
    if not occasions:
        return
    managers = (
        _reachable_members(kind, managers_only=True)
        .filter(structure__refund_requests__status=RefundRequest.Status.TO_COMPLETE)
        .values_list("user_id", "structure_id", "structure__refund_requests__pk")
    )
    for user_id, structure_id, request_id in managers.iterator(chunk_size=2000):
        if request_id in occasions:
            yield Due(user_id, kind, structure_id, request_id, occasions[request_id])


def attachment_pending_due(today: date) -> Iterator[Due]:
    """An attachment request pending for 7 days → the structure's managers, and its requester (who is told
    who the « gestionnaire principal » is)."""
    kind = Kind.ATTACHMENT_PENDING
    occasion = f"{ATTACHMENT_PENDING_DAYS}d"
    cutoff = _start_of(today - timedelta(days=ATTACHMENT_PENDING_DAYS - 1))
    requesters = AttachmentRequest.objects.filter(
        _opted_in(kind, "requester"),
        status=AttachmentRequest.Status.PENDING,
        created_at__lt=cutoff,
        requester__is_active=True,
    ).values_list("requester_id", "structure_id", "pk")
    for user_id, structure_id, request_id in requesters.iterator(chunk_size=2000):
        yield Due(user_id, kind, structure_id, request_id, occasion)
    managers = (
        _reachable_members(kind, managers_only=True)
        .filter(
            structure__attachment_requests__status=AttachmentRequest.Status.PENDING,
            structure__attachment_requests__created_at__lt=cutoff,
        )
        .values_list("user_id", "structure_id", "structure__attachment_requests__pk")
    )
    for user_id, structure_id, request_id in managers.iterator(chunk_size=2000):
        yield Due(user_id, kind, structure_id, request_id, occasion)


def advance_deadline() -> Coalesce:
    """The day an advance must be regularised by: the date applied in practice, else the legal rule's."""
    return Coalesce("offer__repayment_deadline_applied", "offer__repayment_deadline")


def advance_to_regularise_due(today: date) -> Iterator[Due]:
    """90, 30 and 7 days before its deadline, a paid advance whose year has no filed request yet → the members
    of its structure (filing that year's request, even with nothing to declare, regularises it)."""
    kind = Kind.ADVANCE_TO_REGULARISE
    filed_that_year = Exists(
        RefundRequest.objects.filter(
            structure=OuterRef("structure"), campaign__year=OuterRef("for_year")
        ).exclude(status=RefundRequest.Status.DRAFT)
    )
    advances = (
        Advance.objects.filter(paid_amount__isnull=False)
        .annotate(deadline=advance_deadline())
        .filter(deadline__gte=today, deadline__lte=today + timedelta(days=CLOSING_OCCASIONS[0]))
        .exclude(filed_that_year)
    )
    by_structure = defaultdict(list)
    for pk, structure_id, deadline in advances.values_list("pk", "structure_id", "deadline"):
        by_structure[structure_id].append((pk, closing_occasion((deadline - today).days, "deadline")))
    if not by_structure:
        return
    members = _reachable_members(kind).filter(structure_id__in=advances.values("structure_id"))
    for user_id, structure_id in members.values_list("user_id", "structure_id").iterator(chunk_size=2000):
        for advance_id, occasion in by_structure[structure_id]:
            yield Due(user_id, kind, structure_id, advance_id, occasion)


def reminders_due(today: date) -> Iterator[Due]:
    yield from campaign_opening_due(today)
    yield from campaign_closing_due(today)
    yield from request_to_complete_due(today)
    yield from attachment_pending_due(today)
    yield from advance_to_regularise_due(today)


def enabled_kinds(*, user) -> set[str]:
    """The kinds of reminder the user receives (every kind, minus what they switched off)."""
    return set(Kind.values) - set(OptOut.objects.filter(user=user).values_list("kind", flat=True))
