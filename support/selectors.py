"""Reads of the support app, including the refund campaign data the assistant shows."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.apps import apps
from django.db.models import Prefetch, QuerySet
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
                queryset=rate_model.objects.select_related("product").order_by("product__position"),
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
                    product=rate.product.label,
                    amount=f"{_amount(rate.amount)} € par {rate.product.unit_symbol}",
                    last_filing_day=rate.last_filing_day(),
                )
                for rate in campaign.rates.all()
            ],
        )
        for campaign in campaigns
    ]
