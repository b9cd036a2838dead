from decimal import Decimal

from django import template
from django.utils import timezone

from reimbursements import advances, selectors

register = template.Library()


@register.filter
def euros(value) -> str:
    """1 234,56 € (non-breaking spaces), the French way."""
    if value is None or value == "":
        return "—"
    whole, cents = f"{Decimal(value):.2f}".split(".")
    sign = "-" if whole.startswith("-") else ""
    return f"{sign}{int(whole.lstrip('-')):,}".replace(",", "\u00a0") + f",{cents}\u00a0€"


@register.filter
def decimal_fr(value) -> str:
    """A quantity or a rate as typed in France: 12,5 or 13,765."""
    if value is None or value == "":
        return ""
    return f"{Decimal(value).normalize():f}".replace(".", ",")


@register.inclusion_tag("reimbursements/_calendar.html")
def campaign_calendar():
    """The campaigns' calendar (dates, days left, rates not yet published), for the request list and the
    signed-in home page."""
    return {"states": selectors.campaign_calendar(timezone.localdate())}


REGULARISATIONS_SHOWN = 5


@register.inclusion_tag("reimbursements/_regularisations.html")
def advances_to_regularise(user):
    """Advances received by the user's structures whose year still has no filed request: a few named, the
    rest counted (a firm may reach hundreds of structures)."""
    pending = advances.to_regularise(user)
    shown = list(pending[: REGULARISATIONS_SHOWN + 1])
    more = pending.count() - REGULARISATIONS_SHOWN if len(shown) > REGULARISATIONS_SHOWN else 0
    return {"pending": shown[:REGULARISATIONS_SHOWN], "more": more}
