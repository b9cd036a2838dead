"""Reads across relations. Access is always decided by queryset: a user sees the requests of the
structures they are attached to, and nothing else."""

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Q, QuerySet

from reimbursements.models import Advance, Campaign, EnergyProduct, RefundRate, RefundRequest
from structures.models import BankAccount, Membership, Structure


def filing_structures(user) -> QuerySet[Structure]:
    """Structures the user may file for: attached to, and not a management centre (a firm files for its
    clients, never for itself)."""
    return Structure.objects.for_user(user).filter(is_management_centre=False).distinct().order_by("name")


def refund_requests_for_user(user) -> QuerySet[RefundRequest]:
    structure_ids = Structure.objects.for_user(user).values("pk")
    return RefundRequest.objects.filter(structure_id__in=structure_ids).select_related(
        "structure", "campaign"
    )


def refund_request_list(
    *, user, structure_id: int | None = None, year: int | None = None, status: str = "", number: str = ""
) -> QuerySet[RefundRequest]:
    requests = refund_requests_for_user(user)
    if structure_id:
        requests = requests.filter(structure_id=structure_id)
    if year:
        requests = requests.filter(campaign__year=year)
    if status:
        requests = requests.filter(status=status)
    if number:
        requests = requests.filter(number__icontains=number.strip())
    return requests.order_by("-campaign__year", "structure__name", "-pk")


def open_campaigns(today: date) -> QuerySet[Campaign]:
    return Campaign.objects.open_on(today).order_by("-year")


def filing_campaigns(structures: QuerySet[Structure], today: date) -> QuerySet[Campaign]:
    """Years a request may be created for: open campaigns, and campaigns between their dates whose rates
    are not published yet where one of the structures must regularise an advance (with no line)."""
    advance_years = Advance.objects.filter(
        structure_id__in=structures.values("pk"), paid_amount__isnull=False
    ).values("for_year")
    return (
        Campaign.objects.filter(opens_on__lte=today, closes_on__gte=today)
        .filter(Q(rates__isnull=False) | Q(year__in=advance_years))
        .annotate(rate_count=Count("rates", distinct=True))
        .order_by("-year")
    )


def active_bank_accounts(structure_ids) -> QuerySet[BankAccount]:
    return BankAccount.objects.filter(structure_id__in=structure_ids, is_active=True).select_related(
        "structure"
    )


def campaign_rates(campaign: Campaign) -> list[RefundRate]:
    return list(campaign.rates.select_related("product").order_by("product__position", "deliveries_from"))


def campaign_products(campaign: Campaign, today: date) -> QuerySet[EnergyProduct]:
    """Products with a rate for the campaign whose own filing deadline, if any, has not passed."""
    return (
        EnergyProduct.objects.filter(
            Q(rates__closes_on__isnull=True) | Q(rates__closes_on__gte=today), rates__campaign=campaign
        )
        .distinct()
        .order_by("position")
    )


@dataclass(frozen=True)
class CampaignState:
    """A campaign as the calendar shows it on a given day."""

    campaign: Campaign
    has_rates: bool
    today: date

    @property
    def is_open(self) -> bool:
        return self.has_rates and self.campaign.is_open_on(self.today)

    @property
    def has_started(self) -> bool:
        return self.campaign.opens_on <= self.today

    @property
    def days_left(self) -> int:
        return (self.campaign.closes_on - self.today).days


def campaign_calendar(today: date, *, include_closed: bool = False) -> list[CampaignState]:
    """Campaigns not yet closed (every campaign with include_closed), most recent first, those still waiting
    for their rates included (they are listed with « Taux non encore publiés » rather than hidden). One query."""
    campaigns = Campaign.objects.annotate(rate_count=Count("rates")).order_by("-year")
    if not include_closed:
        campaigns = campaigns.filter(closes_on__gte=today)
    return [CampaignState(campaign=c, has_rates=c.rate_count > 0, today=today) for c in campaigns]


def request_recipients(refund_request: RefundRequest) -> list[str]:
    """Who is mailed about a request: its filer (or creator) and the structure's managers."""
    managers = Membership.objects.filter(
        structure_id=refund_request.structure_id,
        is_active=True,
        role__in=[Membership.Role.MAIN_MANAGER, Membership.Role.MANAGER],
    ).values_list("user__email", flat=True)
    filer = refund_request.filed_by or refund_request.created_by
    return sorted({filer.email, *managers})
