"""Every write on refund requests: header, lines, filing, instruction. Each function runs in one
transaction, locks the request it decides on, and raises a RefundError with a French message."""

import itertools
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from chorus.outbox.services import mail_queue
from chorus.storage import PendingFiles, StorageUnavailable
from reimbursements import advances, selectors
from reimbursements.models import (
    Campaign,
    EnergyProduct,
    FilingCounter,
    RefundEvent,
    RefundLine,
    RefundRate,
    RefundRequest,
    day_fr,
    line_amount,
    window_label,
)
from structures.models import BankAccount, BeneficiaryCategory, Structure, StructureChange

Status = RefundRequest.Status


class RefundError(Exception):
    """A refused action; `messages` are shown to the user as they are, `field` names the form field."""

    def __init__(self, *messages: str, field: str | None = None):
        super().__init__(" ".join(messages))
        self.messages = list(messages)
        self.field = field


class DuplicateRequestError(RefundError):
    def __init__(self, existing: RefundRequest):
        super().__init__(
            f"Une demande de remboursement existe déjà pour cette structure et l'année {existing.year} : "
            "complétez-la plutôt que d'en saisir une nouvelle."
        )
        self.existing = existing


class AlreadyFiledError(RefundError):
    pass


# Instruction: the allowed moves, from each status, for instructors. The filer's own moves (draft → filed,
# to complete → filed) go through refund_request_file.
TRANSITIONS = {
    Status.FILED: {Status.IN_REVIEW},
    Status.IN_REVIEW: {Status.TO_COMPLETE, Status.PAID, Status.REJECTED},
    Status.TO_COMPLETE: set(),
    Status.DRAFT: set(),
    Status.PAID: set(),
    Status.REJECTED: set(),
}
EVENT_LABELS = {
    Status.IN_REVIEW: "Prise en charge par le service instructeur",
    Status.TO_COMPLETE: "Demande à compléter",
    Status.PAID: "Mise en paiement",
    Status.REJECTED: "Demande rejetée",
}
FIRST_FILING_LABEL = "Mise à disposition"
REFILING_LABEL = "Demande complétée, mise à disposition de nouveau"


@dataclass(frozen=True)
class Header:
    bank_account: BankAccount | None
    beneficiary_category: BeneficiaryCategory | None
    pacage: str
    not_in_difficulty: bool
    save_to_structure: bool = False


def campaign_rate_table(campaign: Campaign) -> dict[int, list[RefundRate]]:
    """Every rate of the campaign by product id, in delivery order: one query for a whole request."""
    table: dict[int, list[RefundRate]] = {}
    for rate in campaign.rates.select_related("campaign").order_by("deliveries_from"):
        table.setdefault(rate.product_id, []).append(rate)
    return table


def _windows(rates: list[RefundRate]) -> str:
    return " ; ".join(rate.window_label for rate in rates)


def line_rate(
    *,
    campaign: Campaign,
    product: EnergyProduct,
    delivery_date: date | None,
    rates: dict[int, list[RefundRate]] | None = None,
) -> RefundRate:
    """The rate of `product` for the delivery date: the one rule used by the form, the live estimate, the
    save, the filing and the import. Without a date, only a product with a single window has a rate.
    `rates` (from campaign_rate_table) saves a query per line."""
    if rates is None:
        candidates = list(
            RefundRate.objects.filter(campaign=campaign, product=product)
            .select_related("campaign")
            .order_by("deliveries_from")
        )
    else:
        candidates = rates.get(product.pk, [])
    if not candidates:
        raise RefundError(
            f"Aucun taux de remboursement n'est fixé pour le produit « {product} » en {campaign.year}.",
            field="product",
        )
    if delivery_date is None:
        if len(candidates) == 1:
            return candidates[0]
        raise RefundError(
            f"Le taux du produit « {product} » en {campaign.year} dépend de la date de livraison "
            f"(livraisons {_windows(candidates)}) : indiquez-la.",
            field="delivery_date",
        )
    if delivery_date.year != campaign.year:
        raise RefundError(
            f"La date de livraison doit être comprise dans l'année de la demande ({campaign.year}).",
            field="delivery_date",
        )
    for rate in candidates:
        if rate.covers_delivery(delivery_date):
            return rate
    raise RefundError(
        f"Aucun taux du produit « {product} » ne s'applique aux livraisons du {day_fr(delivery_date)}. "
        f"Taux fixés en {campaign.year} pour les livraisons {_windows(candidates)}.",
        field="delivery_date",
    )


def rate_window_overlaps(windows: list[tuple[EnergyProduct, date, date]]) -> list[str]:
    """What is wrong with a campaign's set of rate windows: two windows of one product sharing a day.
    The admin's campaign form checks its rows with it before saving; PostgreSQL's exclusion constraint
    (and the model's validation, on SQLite) guard the rows already saved."""
    problems = []
    by_product: dict[int, list[tuple[EnergyProduct, date, date]]] = {}
    for window in windows:
        by_product.setdefault(window[0].pk, []).append(window)
    for product_windows in by_product.values():
        product_windows.sort(key=lambda window: window[1])
        for (product, start, end), (_, next_start, next_end) in itertools.pairwise(product_windows):
            if next_start <= end:
                problems.append(
                    f"« {product} » : les périodes de livraison {window_label(start, end)} et "
                    f"{window_label(next_start, next_end)} se chevauchent. Une livraison ne peut avoir "
                    "qu'un taux."
                )
    return problems


def _check_header(*, structure: Structure, header: Header, user) -> None:
    if header.bank_account is not None and (
        header.bank_account.structure_id != structure.pk or not header.bank_account.is_active
    ):
        raise RefundError(
            "Choisissez des références bancaires enregistrées sur la structure de la demande.",
            field="bank_account",
        )
    if header.save_to_structure and not Structure.objects.managed_by(user).filter(pk=structure.pk).exists():
        raise RefundError(
            "Seul un gestionnaire de la structure peut y enregistrer la catégorie et le numéro PACAGE.",
            field="save_to_structure",
        )


def _save_to_structure(*, structure: Structure, header: Header, user) -> None:
    """Write the category and PACAGE back to the structure, with its change history."""
    locked = Structure.objects.select_for_update(of=("self",)).get(pk=structure.pk)
    changes = []
    if locked.beneficiary_category_id != (
        header.beneficiary_category.pk if header.beneficiary_category else None
    ):
        changes.append(
            (
                "catégorie de bénéficiaire",
                str(locked.beneficiary_category or ""),
                str(header.beneficiary_category or ""),
            )
        )
        locked.beneficiary_category = header.beneficiary_category
    if locked.pacage != header.pacage:
        changes.append(("numéro PACAGE", locked.pacage, header.pacage))
        locked.pacage = header.pacage
    if changes:
        locked.save(update_fields=["beneficiary_category", "pacage", "updated_at"])
        StructureChange.objects.bulk_create(
            StructureChange(structure=locked, changed_by=user, field=field, old_value=old, new_value=new)
            for field, old, new in changes
        )


@transaction.atomic
def refund_request_create(*, user, structure: Structure, campaign: Campaign, header: Header) -> RefundRequest:
    if not selectors.filing_structures(user).filter(pk=structure.pk).exists():
        raise RefundError("Vous n'êtes pas rattaché à cette structure.", field="structure")
    today = timezone.localdate()
    if (
        not Campaign.objects.open_on(today).filter(pk=campaign.pk).exists()
        and not advances.campaigns_for_regularisation([structure.pk], today).filter(pk=campaign.pk).exists()
    ):
        reason = ""
        if campaign.is_open_on(today):
            reason = (
                " : ses taux ne sont pas encore publiés, et seule une structure qui doit régulariser une avance "
                "perçue au titre de cette année peut déjà y déposer une demande sans livraison"
            )
        raise RefundError(
            f"Le dépôt des demandes de l'année {campaign.year} n'est pas ouvert{reason}.", field="campaign"
        )
    existing = RefundRequest.objects.filter(structure=structure, campaign=campaign).first()
    if existing is not None:
        raise DuplicateRequestError(existing)
    _check_header(structure=structure, header=header, user=user)
    try:
        with transaction.atomic():
            refund_request = RefundRequest.objects.create(
                structure=structure,
                campaign=campaign,
                bank_account=header.bank_account,
                beneficiary_category=header.beneficiary_category,
                pacage=header.pacage,
                not_in_difficulty=header.not_in_difficulty,
                created_by=user,
            )
    except IntegrityError as exc:
        # Someone else created it between our check and our insert: the constraint decides.
        existing = RefundRequest.objects.filter(structure=structure, campaign=campaign).first()
        if existing is None:
            raise
        raise DuplicateRequestError(existing) from exc
    if header.save_to_structure:
        _save_to_structure(structure=structure, header=header, user=user)
    return refund_request


def _lock_editable(refund_request_id: int) -> RefundRequest:
    refund_request = (
        RefundRequest.objects.select_for_update(of=("self",))
        .select_related("campaign", "structure")
        .get(pk=refund_request_id)
    )
    if not refund_request.is_editable:
        raise RefundError(
            f"Cette demande est à l'état « {refund_request.get_status_display()} » : elle ne peut plus être modifiée."
        )
    return refund_request


@transaction.atomic
def refund_request_update_header(*, refund_request_id: int, user, header: Header) -> RefundRequest:
    refund_request = _lock_editable(refund_request_id)
    _check_header(structure=refund_request.structure, header=header, user=user)
    refund_request.bank_account = header.bank_account
    refund_request.beneficiary_category = header.beneficiary_category
    refund_request.pacage = header.pacage
    refund_request.not_in_difficulty = header.not_in_difficulty
    refund_request.save(
        update_fields=["bank_account", "beneficiary_category", "pacage", "not_in_difficulty", "updated_at"]
    )
    if header.save_to_structure:
        _save_to_structure(structure=refund_request.structure, header=header, user=user)
    return refund_request


def line_quantity_check(product: EnergyProduct, quantity: Decimal) -> None:
    if quantity <= 0:
        raise RefundError("La quantité doit être supérieure à zéro.", field="quantity")
    if quantity > product.max_quantity:
        raise RefundError(
            f"La quantité ne peut pas dépasser {product.max_quantity.normalize():f} {product.unit_symbol} "
            "sur une ligne : vérifiez l'unité.",
            field="quantity",
        )


def _refresh_total(refund_request: RefundRequest) -> None:
    total = refund_request.lines.aggregate(total=Sum("amount"))["total"] or Decimal("0")
    refund_request.total_amount = total
    fields = ["total_amount", "updated_at"]
    if refund_request.advance_deducted is not None:
        refund_request.balance = total - refund_request.advance_deducted
        fields.append("balance")
    refund_request.save(update_fields=fields)


def refund_line_save(
    *,
    refund_request_id: int,
    line_id: int | None = None,
    invoice_number: str,
    delivery_date: date,
    product: EnergyProduct,
    quantity: Decimal,
    invoice_copy=None,
) -> RefundLine:
    """Add a line (line_id None) or change one; the amount is computed here, whatever the page showed.
    The invoice copy is stored before the line is written and deleted again if the change does not commit,
    so there is never a line pointing to a missing file, nor a file without its line."""
    try:
        with PendingFiles() as files, transaction.atomic():
            return _refund_line_save(
                files,
                refund_request_id=refund_request_id,
                line_id=line_id,
                invoice_number=invoice_number,
                delivery_date=delivery_date,
                product=product,
                quantity=quantity,
                invoice_copy=invoice_copy,
            )
    except StorageUnavailable as exc:
        raise RefundError(exc.message, field="invoice_copy") from exc


def _refund_line_save(
    files: PendingFiles,
    *,
    refund_request_id: int,
    line_id: int | None,
    invoice_number: str,
    delivery_date: date,
    product: EnergyProduct,
    quantity: Decimal,
    invoice_copy,
) -> RefundLine:
    refund_request = _lock_editable(refund_request_id)
    rate = line_rate(campaign=refund_request.campaign, product=product, delivery_date=delivery_date)
    line_quantity_check(product, quantity)
    line = RefundLine(request=refund_request) if line_id is None else refund_request.lines.get(pk=line_id)
    line.invoice_number = invoice_number
    line.delivery_date = delivery_date
    line.product = product
    line.quantity = quantity
    line.rate = rate.amount
    line.amount = line_amount(quantity, rate.amount)
    if invoice_copy is not None:
        files.store(line.invoice_copy, invoice_copy)
        line.invoice_original_name = getattr(invoice_copy, "original_name", invoice_copy.name)[:255]
    line.save()
    _refresh_total(refund_request)
    return line


@dataclass(frozen=True)
class NewLine:
    invoice_number: str
    delivery_date: date
    product: EnergyProduct
    quantity: Decimal
    # A copy already checked and stored by the caller (who deletes it if the batch is refused).
    invoice_copy: str = ""
    invoice_original_name: str = ""


@transaction.atomic
def refund_lines_add(*, refund_request_id: int, lines: list[NewLine]) -> list[RefundLine]:
    """Add many lines at once (the bulk import): the same checks and amounts as refund_line_save, with one
    lock, one rate table and one total for the whole batch. Any wrong line refuses the batch."""
    refund_request = _lock_editable(refund_request_id)
    rates = campaign_rate_table(refund_request.campaign)
    created = []
    for new in lines:
        rate = line_rate(
            campaign=refund_request.campaign,
            product=new.product,
            delivery_date=new.delivery_date,
            rates=rates,
        )
        line_quantity_check(new.product, new.quantity)
        line = RefundLine(
            request=refund_request,
            invoice_number=new.invoice_number,
            delivery_date=new.delivery_date,
            product=new.product,
            quantity=new.quantity,
            rate=rate.amount,
            amount=line_amount(new.quantity, rate.amount),
            invoice_copy=new.invoice_copy,
            invoice_original_name=new.invoice_original_name[:255],
        )
        created.append(line)
    RefundLine.objects.bulk_create(created)
    _refresh_total(refund_request)
    return created


@transaction.atomic
def refund_line_delete(*, refund_request_id: int, line_id: int) -> None:
    refund_request = _lock_editable(refund_request_id)
    refund_request.lines.filter(pk=line_id).delete()
    _refresh_total(refund_request)


def _filing_problems(
    refund_request: RefundRequest,
    today: date,
    *,
    advance: bool | None = None,
    nothing_to_declare: bool = False,
) -> list[str]:
    """Everything checked again on the server before filing; recomputes every line's rate and amount."""
    problems = []
    campaign = refund_request.campaign
    if not campaign.is_open_on(today):
        problems.append(f"Le dépôt des demandes de l'année {campaign.year} n'est pas ouvert.")
    account = refund_request.bank_account
    if account is None or not account.is_active or account.structure_id != refund_request.structure_id:
        problems.append("Choisissez les références bancaires de la structure dans l'en-tête.")
    elif not account.rib_document:
        problems.append("Les références bancaires choisies n'ont pas de copie du RIB.")
    if refund_request.beneficiary_category_id is None:
        problems.append("Indiquez la catégorie de bénéficiaire dans l'en-tête.")
    if not refund_request.not_in_difficulty:
        problems.append("Cochez la déclaration sur l'honneur dans l'en-tête.")
    lines = list(refund_request.lines.select_related("product"))
    rates = campaign_rate_table(campaign)
    problems.extend(
        advances.filing_problems(
            refund_request, has_lines=bool(lines), advance=advance, nothing_to_declare=nothing_to_declare
        )
    )
    for line in lines:
        where = f"Ligne « {line.invoice_number} » : "
        if not line.invoice_copy:
            problems.append(where + "joignez la copie de la facture.")
        try:
            rate = line_rate(
                campaign=campaign, product=line.product, delivery_date=line.delivery_date, rates=rates
            )
        except RefundError as exc:
            problems.extend(where + message for message in exc.messages)
            continue
        if rate.last_filing_day() < today:
            problems.append(
                where + f"le dépôt pour le produit « {line.product} » en {campaign.year} est clos "
                f"depuis le {rate.last_filing_day():%d/%m/%Y}."
            )
        amount = line_amount(line.quantity, rate.amount)
        if (line.rate, line.amount) != (rate.amount, amount):
            line.rate, line.amount = rate.amount, amount
            line.save(update_fields=["rate", "amount"])
    return problems


def filing_number_next(*, year: int) -> str:
    """The next number of the year, taken under the counter row's lock (call inside the filing transaction:
    a rollback gives the number back, so numbers have no gaps)."""
    FilingCounter.objects.bulk_create([FilingCounter(year=year)], ignore_conflicts=True)
    counter = FilingCounter.objects.select_for_update().get(year=year)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return f"TIC-{year}-{counter.last_number:06d}"


def _record(refund_request: RefundRequest, *, from_status: str, label: str, actor, comment: str = "") -> None:
    RefundEvent.objects.create(
        request=refund_request,
        from_status=from_status,
        to_status=refund_request.status,
        label=label,
        actor=actor,
        comment=comment,
    )


@transaction.atomic
def refund_request_file(
    *, refund_request_id: int, user, advance: bool | None = None, nothing_to_declare: bool = False
) -> RefundRequest:
    """« Déposer la demande ». A double click or a resubmitted form waits on the row lock, then finds the
    request filed and raises AlreadyFiledError: it is filed, numbered and mailed once.

    `advance`: the filer's explicit answer when the campaign offers an advance (None: not answered, which
    is refused: it is never chosen for them). `nothing_to_declare`: « Je n'ai pas de livraison à déclarer »,
    a request with no line that regularises an advance received for its year."""
    refund_request = (
        RefundRequest.objects.select_for_update(of=("self",))
        .select_related("campaign", "structure", "bank_account", "created_by")
        .get(pk=refund_request_id)
    )
    if not refund_request.is_editable:
        raise AlreadyFiledError(f"Cette demande a déjà été déposée sous le numéro {refund_request.number}.")
    now = timezone.now()
    problems = _filing_problems(
        refund_request, timezone.localdate(now), advance=advance, nothing_to_declare=nothing_to_declare
    )
    if problems:
        raise RefundError(*problems)
    previous = refund_request.status
    if refund_request.number is None:
        refund_request.number = filing_number_next(year=refund_request.year)
    refund_request.status = Status.FILED
    refund_request.filed_by = user
    refund_request.filed_at = now
    refund_request.save(update_fields=["number", "status", "filed_by", "filed_at", "updated_at"])
    _refresh_total(refund_request)
    note = advances.apply_on_filing(refund_request, advance=advance, nothing_to_declare=nothing_to_declare)
    label = FIRST_FILING_LABEL if previous == Status.DRAFT else REFILING_LABEL
    _record(refund_request, from_status=previous, label=label, actor=user, comment=note)
    mail_queue(
        to=selectors.request_recipients(refund_request),
        template="reimbursements/emails/filed",
        context={"refund_request": refund_request, "filer": user, "note": note},
    )
    return refund_request


@transaction.atomic
def refund_request_transition(
    *, refund_request_id: int, actor, to_status: str, comment: str = "", paid_amount: Decimal | None = None
) -> RefundRequest:
    """An instructor's decision. Impossible moves, a missing message, reason or paid amount are refused."""
    refund_request = (
        RefundRequest.objects.select_for_update(of=("self",))
        .select_related("campaign", "structure", "filed_by", "created_by")
        .get(pk=refund_request_id)
    )
    previous = refund_request.status
    if to_status not in TRANSITIONS.get(previous, set()):
        raise RefundError(
            f"Une demande à l'état « {refund_request.get_status_display()} » ne peut pas passer à l'état "
            f"« {Status(to_status).label} »."
        )
    comment = comment.strip()
    if to_status == Status.TO_COMPLETE and not comment:
        raise RefundError("Indiquez au déposant ce qu'il doit compléter.", field="comment")
    if to_status == Status.REJECTED and not comment:
        raise RefundError("Indiquez le motif du rejet.", field="comment")
    if to_status == Status.PAID:
        if paid_amount is None or paid_amount < 0:
            raise RefundError("Indiquez le montant mis en paiement.", field="paid_amount")
        if paid_amount > refund_request.total_amount:
            raise RefundError("Le montant payé ne peut pas dépasser le montant demandé.", field="paid_amount")
        if refund_request.balance is not None and paid_amount > max(refund_request.balance, Decimal("0")):
            raise RefundError(
                "Le montant payé ne peut pas dépasser le solde, avance perçue déduite "
                f"({advances.euros(max(refund_request.balance, Decimal('0')))}).",
                field="paid_amount",
            )
        refund_request.paid_amount = paid_amount
    refund_request.status = to_status
    refund_request.save(update_fields=["status", "paid_amount", "updated_at"])
    _record(refund_request, from_status=previous, label=EVENT_LABELS[to_status], actor=actor, comment=comment)
    mail_queue(
        to=selectors.request_recipients(refund_request),
        template="reimbursements/emails/status_changed",
        context={"refund_request": refund_request, "comment": comment},
    )
    return refund_request
