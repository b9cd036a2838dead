"""Reads of the support app, including the refund campaign data the assistant shows."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.apps import apps
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.utils import timezone

from accounts.models import User
from support.models import SupportTicket


def tickets_for_user(user: User) -> QuerySet[SupportTicket]:
    """The user's tickets: sent while signed in, or sent as a visitor and attached to the account from the
    link mailed to its address (services.ticket_claim)."""
    return SupportTicket.objects.filter(user=user)


def tickets_readable_by(user: User, *, verified: bool) -> QuerySet[SupportTicket]:
    """Tickets whose attachment the user may open: support staff read all of them, once their session has
    passed the e-mailed code (as the admin requires); everyone else reads their own."""
    if verified and user.is_staff and user.has_perm("support.view_supportticket"):
        return SupportTicket.objects.all()
    return tickets_for_user(user)


@dataclass(frozen=True)
class RateRow:
    product: str
    amount: str  # "13,765 € par 100 kg": as many decimals as the rate has, French decimal comma
    last_filing_day: date


@dataclass(frozen=True)
class CampaignRow:
    year: int
    opens_on: date
    closes_on: date
    rates: list[RateRow]


def _amount(value: Decimal) -> str:
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",")


def _product_and_window(rate, year: int) -> str:
    """The product, and its delivery window when it does not cover the whole year (GNR 2024 after 1 July)."""
    whole_year = (rate.deliveries_from, rate.deliveries_until) == (date(year, 1, 1), date(year, 12, 31))
    if whole_year:
        return rate.product.label
    return f"{rate.product.label}, livraisons du {rate.deliveries_from:%d/%m/%Y} au {rate.deliveries_until:%d/%m/%Y}"


def refund_campaigns() -> list[CampaignRow] | None:
    """Campaigns still open to filing, with their products, rates and deadlines, read from the refund
    app's reference data; None while that data is not installed."""
    try:
        campaign_model = apps.get_model("reimbursements", "Campaign")
        rate_model = apps.get_model("reimbursements", "RefundRate")
    except LookupError:
        return None
    campaigns = (
        campaign_model.objects.filter(closes_on__gte=timezone.localdate())
        .order_by("-year")
        .prefetch_related(
            Prefetch(
                "rates",
                queryset=rate_model.objects.select_related("product").order_by(
                    "product__position", "deliveries_from"
                ),
            )
        )
    )
    return [
        CampaignRow(
            year=campaign.year,
            opens_on=campaign.opens_on,
            closes_on=campaign.closes_on,
            rates=[
                RateRow(
                    product=_product_and_window(rate, campaign.year),
                    amount=f"{_amount(rate.amount)} € par {rate.product.unit_symbol}",
                    last_filing_day=rate.last_filing_day(),
                )
                for rate in campaign.rates.all()
            ],
        )
        for campaign in campaigns
    ]


@dataclass(frozen=True)
class AdvanceOfferRow:
    label: str  # « avance » or « acompte »
    campaign_year: int
    for_year: int
    rate: str  # "50 %"
    legal_reference: str
    commitment: str
    repayment_deadline: date
    repayment_deadline_applied: date | None
    repayment_instructions: str


@dataclass(frozen=True)
class ReceivedAdvanceRow:
    structure: str
    for_year: int
    amount: Decimal
    paid_on: date
    regularised: bool


@dataclass(frozen=True)
class AdvancesData:
    offers: list[AdvanceOfferRow]
    received: list[ReceivedAdvanceRow]


RECEIVED_SHOWN = 10


def advances(user) -> AdvancesData | None:
    """The advance offers (rate, legal text, commitment, deadlines, how to repay) read from the refund
    app's data, and for a signed-in user the advances their structures received; None while that data is
    not installed."""
    try:
        offer_model = apps.get_model("reimbursements", "AdvanceOffer")
        advance_model = apps.get_model("reimbursements", "Advance")
        request_model = apps.get_model("reimbursements", "RefundRequest")
    except LookupError:
        return None
    offers = [
        AdvanceOfferRow(
            label=offer.label,
            campaign_year=offer.campaign.year,
            for_year=offer.for_year,
            rate=f"{_amount(offer.rate)} %",
            legal_reference=offer.legal_reference,
            commitment=offer.commitment,
            repayment_deadline=offer.repayment_deadline,
            repayment_deadline_applied=offer.repayment_deadline_applied,
            repayment_instructions=offer.repayment_instructions,
        )
        for offer in offer_model.objects.select_related("campaign").order_by("-for_year")
    ]
    received = []
    if user.is_authenticated:
        filed = request_model.objects.filter(
            structure_id=OuterRef("structure_id"), campaign__year=OuterRef("for_year")
        ).exclude(status="draft")
        rows = (
            advance_model.objects.filter(
                paid_amount__isnull=False,
                structure__memberships__user=user,
                structure__memberships__is_active=True,
            )
            .annotate(regularised=Exists(filed))
            .select_related("structure")
            .order_by("regularised", "-for_year", "structure__name")[:RECEIVED_SHOWN]
        )
        received = [
            ReceivedAdvanceRow(
                structure=row.structure.name,
                for_year=row.for_year,
                amount=row.paid_amount,
                paid_on=row.paid_on,
                regularised=row.regularised,
            )
            for row in rows
        ]
    return AdvancesData(offers=offers, received=received)
