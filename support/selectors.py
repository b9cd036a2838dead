"""Reads of the support app, including the refund campaign data the assistant shows."""

from django.apps import apps
from django.db.models import Prefetch, Q, QuerySet
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.models import User
from support.models import SupportTicket


def tickets_for_user(user: User) -> QuerySet[SupportTicket]:
    """The user's tickets: sent while signed in, or sent as a visitor from the account's login address
    (the person who could not sign in, once signed in, finds the answer there)."""
    return SupportTicket.objects.alias(email_lower=Lower("email")).filter(
        Q(user=user) | Q(user__isnull=True, email_lower=user.email.lower())
    )


def tickets_readable_by(user: User) -> QuerySet[SupportTicket]:
    """Tickets whose details and attachment the user may open: support staff read all of them."""
    if user.is_staff and user.has_perm("support.view_supportticket"):
        return SupportTicket.objects.all()
    return tickets_for_user(user)


def refund_campaigns() -> list | None:
    """Campaigns still open to filing, with their products, rates and deadlines, read from the refund
    app's reference data; None while that data is not installed."""
    try:
        campaign_model = apps.get_model("reimbursements", "Campaign")
        rate_model = apps.get_model("reimbursements", "RefundRate")
    except LookupError:
        return None
    return list(
        campaign_model.objects.filter(closes_on__gte=timezone.localdate())
        .order_by("-year")
        .prefetch_related(
            Prefetch(
                "rates",
                queryset=rate_model.objects.select_related("product").order_by("product__position"),
            )
        )
    )
