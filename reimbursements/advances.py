"""Advances (« avance », « acompte ») and their regularisation: asking for one when filing, recording its
payment, deducting it from the refund of the year it was paid for, and who still has to regularise.

The offers are data (AdvanceOffer, seeded from shared/domain.md and edited in the admin). The writes run
inside the request services' transactions, under the request's row lock."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from chorus.outbox.services import mail_queue
from reimbursements import selectors
from reimbursements.models import Advance, AdvanceOffer, Campaign, RefundEvent, RefundRequest, advance_amount
from structures.models import Structure

Status = RefundRequest.Status
ADVANCE_PAID_LABEL = "Avance versée"
# Where a paid advance may be recorded: once the service instructeur has taken the request in hand.
PAYABLE = frozenset({Status.IN_REVIEW, Status.PAID})


def euros(value: Decimal) -> str:
    whole, cents = f"{value:.2f}".split(".")
    sign = "-" if whole.startswith("-") else ""
    return f"{sign}{int(whole.lstrip('-')):,}".replace(",", "\u00a0") + f",{cents}\u00a0€"


def offer_for(campaign: Campaign) -> AdvanceOffer | None:
    try:
        return campaign.advance_offer
    except AdvanceOffer.DoesNotExist:
        return None


def received(*, structure_id: int, year: int) -> Advance | None:
    """The advance the structure was paid on account of `year`, if any."""
    return (
        Advance.objects.select_related("offer")
        .filter(structure_id=structure_id, for_year=year, paid_amount__isnull=False)
        .first()
    )


@dataclass(frozen=True)
class Deduction:
    """« Avance perçue au titre de {année} » and the balance of a request."""

    advance: Advance
    refund: Decimal

    @property
    def year(self) -> int:
        return self.advance.for_year

    @property
    def amount(self) -> Decimal:
        return self.advance.paid_amount

    @property
    def balance(self) -> Decimal:
        return self.refund - self.amount

    @property
    def to_repay(self) -> Decimal | None:
        return -self.balance if self.balance < 0 else None

    @property
    def offer(self) -> AdvanceOffer:
        return self.advance.offer


def deduction(refund_request: RefundRequest) -> Deduction | None:
    advance = received(structure_id=refund_request.structure_id, year=refund_request.campaign.year)
    if advance is None:
        return None
    return Deduction(advance=advance, refund=refund_request.total_amount)


def keep_balance(refund_request: RefundRequest) -> list[str]:
    """Write the advance received and the balance on the request (they are kept on it, its receipt and
    its export). Returns the fields to save."""
    found = deduction(refund_request)
    refund_request.advance_deducted = found.amount if found else None
    refund_request.balance = found.balance if found else None
    return ["advance_deducted", "balance"]


def campaigns_for_regularisation(structure_ids, today: date) -> QuerySet[Campaign]:
    """Campaigns between their dates for which one of the structures received an advance: they may file
    there even while the rates are not published (a request with no line, to regularise)."""
    years = Advance.objects.filter(structure_id__in=structure_ids, paid_amount__isnull=False).values(
        "for_year"
    )
    return Campaign.objects.filter(year__in=years, opens_on__lte=today, closes_on__gte=today)


def filing_problems(
    refund_request: RefundRequest, *, has_lines: bool, advance: bool | None, nothing_to_declare: bool
) -> list[str]:
    year = refund_request.campaign.year
    received_advance = received(structure_id=refund_request.structure_id, year=year)
    problems = []
    if nothing_to_declare:
        if has_lines:
            problems.append(
                f"Vous avez indiqué « Je n'ai pas de livraison à déclarer pour {year} » : supprimez d'abord "
                "les lignes de demande, ou décochez cette case."
            )
        if received_advance is None:
            problems.append(
                "Une demande sans livraison sert à régulariser une avance, et cette structure n'en a pas perçu "
                f"au titre de {year} : ajoutez au moins une ligne de demande."
            )
    elif not has_lines:
        if received_advance is not None:
            problems.append(
                f"Ajoutez au moins une ligne de demande, ou cochez « Je n'ai pas de livraison à déclarer pour "
                f"{year} » pour régulariser l'avance perçue."
            )
        else:
            problems.append("Ajoutez au moins une ligne de demande.")
    offer = offer_for(refund_request.campaign)
    if offer is not None and not nothing_to_declare and advance is None:
        problems.append(
            f"Indiquez si vous demandez le versement de l'{offer.label} au titre des livraisons {offer.for_year}."
        )
    return problems


def apply_on_filing(refund_request: RefundRequest, *, advance: bool | None, nothing_to_declare: bool) -> str:
    """After a successful filing check: record the choice about the advance offered (an advance already
    paid is never touched) and the balance. Returns what the event feed says about it."""
    refund_request.nothing_to_declare = nothing_to_declare
    fields = ["nothing_to_declare", *keep_balance(refund_request)]
    refund_request.save(update_fields=[*fields, "updated_at"])
    notes = []
    if refund_request.advance_deducted is not None:
        notes.append(balance_sentence(refund_request))
    offer = offer_for(refund_request.campaign)
    if offer is None:
        return " ".join(notes)
    existing = Advance.objects.select_for_update().filter(request=refund_request).first()
    if existing is not None and existing.is_paid:
        return " ".join(notes)
    if advance and not nothing_to_declare:
        amount = advance_amount(refund_request.total_amount, offer.rate)
        Advance.objects.update_or_create(
            request=refund_request,
            defaults={
                "offer": offer,
                "structure_id": refund_request.structure_id,
                "for_year": offer.for_year,
                "requested_amount": amount,
            },
        )
        notes.append(f"{offer.label.capitalize()} demandée au titre de {offer.for_year} : {euros(amount)}.")
    elif existing is not None:
        existing.delete()
    return " ".join(notes)


def balance_sentence(refund_request: RefundRequest) -> str:
    year = refund_request.campaign.year
    text = f"Avance perçue au titre de {year} : {euros(refund_request.advance_deducted)}. "
    if refund_request.balance < 0:
        return text + f"Montant à reverser : {euros(-refund_request.balance)}."
    return text + f"Solde : {euros(refund_request.balance)}."


class AdvanceError(Exception):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.messages = [message]
        self.field = field


@transaction.atomic
def advance_record_payment(*, refund_request_id: int, actor, amount: Decimal, paid_on: date) -> Advance:
    """« Avance versée »: an instructor records the payment of the advance asked for with a request. Once
    only; the request's event feed shows it and the filer and managers are mailed."""
    refund_request = (
        RefundRequest.objects.select_for_update(of=("self",))
        .select_related("campaign", "structure", "filed_by", "created_by")
        .get(pk=refund_request_id)
    )
    advance = Advance.objects.select_for_update().filter(request=refund_request).first()
    if advance is None:
        raise AdvanceError("Aucune avance n'a été demandée avec cette demande.")
    if advance.is_paid:
        raise AdvanceError(
            f"L'avance de cette demande est déjà enregistrée : {euros(advance.paid_amount)} versés le "
            f"{advance.paid_on:%d/%m/%Y}."
        )
    if refund_request.status not in PAYABLE:
        raise AdvanceError(
            f"Une avance se verse sur une demande prise en charge : celle-ci est à l'état "
            f"« {refund_request.get_status_display()} »."
        )
    if amount is None or amount <= 0:
        raise AdvanceError("Le montant versé doit être supérieur à zéro.", field="amount")
    if amount > advance.requested_amount:
        raise AdvanceError(
            f"Le montant versé ne peut pas dépasser l'avance demandée ({euros(advance.requested_amount)}).",
            field="amount",
        )
    if paid_on is None:
        raise AdvanceError("Indiquez la date du versement.", field="paid_on")
    if paid_on > timezone.localdate():
        raise AdvanceError("La date du versement ne peut pas être dans le futur.", field="paid_on")
    if refund_request.filed_at and paid_on < timezone.localdate(refund_request.filed_at):
        raise AdvanceError(
            "La date du versement ne peut pas précéder le dépôt de la demande.", field="paid_on"
        )
    advance.paid_amount, advance.paid_on, advance.recorded_by = amount, paid_on, actor
    advance.save(update_fields=["paid_amount", "paid_on", "recorded_by"])
    comment = (
        f"{advance.offer.label.capitalize()} au titre de {advance.for_year} : {euros(amount)} versés le "
        f"{paid_on:%d/%m/%Y}."
    )
    RefundEvent.objects.create(
        request=refund_request,
        from_status=refund_request.status,
        to_status=refund_request.status,
        label=ADVANCE_PAID_LABEL,
        actor=actor,
        comment=comment,
    )
    # A request of the advance's year filed before the payment was recorded gets its balance now.
    later = (
        RefundRequest.objects.select_for_update(of=("self",))
        .select_related("campaign")
        .filter(structure_id=refund_request.structure_id, campaign__year=advance.for_year)
        .exclude(status__in=[Status.DRAFT, Status.PAID, Status.REJECTED])
        .first()
    )
    if later is not None:
        later.save(update_fields=[*keep_balance(later), "updated_at"])
    mail_queue(
        to=selectors.request_recipients(refund_request),
        template="reimbursements/emails/advance_paid",
        context={"refund_request": refund_request, "advance": advance},
    )
    return advance


def to_regularise(user) -> QuerySet[Advance]:
    """Paid advances of the user's structures whose year has no filed request yet: the structure still
    has to file (even with nothing to declare) before the deadline."""
    structure_ids = Structure.objects.for_user(user).values("pk")
    filed = RefundRequest.objects.filter(
        structure_id=OuterRef("structure_id"), campaign__year=OuterRef("for_year")
    ).exclude(status=Status.DRAFT)
    return (
        Advance.objects.filter(structure_id__in=structure_ids, paid_amount__isnull=False)
        .exclude(Exists(filed))
        .select_related("structure", "offer")
        .order_by("offer__repayment_deadline", "structure__name")
    )
