"""Thin views: access by queryset (404 for anyone not attached to the structure), a form, one service."""

import re

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Sum
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from chorus.uploads import private_file_response
from reimbursements import advances, exports, receipt, selectors, services
from reimbursements.forms import FilingForm, HeaderForm, LineForm, ListFilterForm, estimate
from reimbursements.models import Advance, RefundLine, RefundRequest, advance_amount
from structures.models import Structure

LIST_PAGE_SIZE = 50


def _get_request(request, pk) -> RefundRequest:
    return get_object_or_404(
        selectors.refund_requests_for_user(request.user).select_related(
            "bank_account", "beneficiary_category", "created_by", "filed_by"
        ),
        pk=pk,
    )


def _get_line(request, pk, line_pk) -> RefundLine:
    return get_object_or_404(
        RefundLine.objects.select_related("request__campaign", "product").filter(
            request__in=selectors.refund_requests_for_user(request.user)
        ),
        request_id=pk,
        pk=line_pk,
    )


@require_safe
def request_list(request):
    form = ListFilterForm(request.GET or None, user=request.user)
    requests = selectors.refund_request_list(user=request.user, **form.filters())
    page = _paginate(requests, request.GET.get("page"))
    return render(
        request,
        "reimbursements/list.html",
        {
            "form": form,
            "page": page,
            "can_create": selectors.filing_structures(request.user).exists(),
            "is_attached": Structure.objects.for_user(request.user).exists(),
        },
    )


def _paginate(queryset, number):
    return Paginator(queryset, LIST_PAGE_SIZE).get_page(number)


@require_safe
def request_export(request):
    form = ListFilterForm(request.GET or None, user=request.user)
    requests = selectors.refund_request_list(user=request.user, **form.filters())
    return exports.requests_csv_response(requests)


def _header_initial(request, data, today) -> dict:
    """The header pre-filled from the chosen structure, keeping every value the user already chose: sent
    by the « Pré-remplir » button or, with JavaScript, by the in-place refresh when a structure is picked
    (the whole form is sent, so a year or bank account chosen meanwhile is kept). The structure's saved
    category and PACAGE fill those fields; its first bank account fills the field unless the one chosen
    belongs to it. A link may name the structure by id (?structure=<pk>)."""
    structures = selectors.filing_structures(request.user)
    typed = (data.get("structure") or "").strip()[:250]
    if re.fullmatch(r"[0-9]{1,13}", typed):
        structure = structures.filter(pk=_int(typed)).first()
    elif typed:
        structure = HeaderForm(data, user=request.user, today=today).chosen_structure
    elif len(candidates := list(structures[:2])) == 1:
        structure = candidates[0]
    else:
        structure = None
    initial = {
        "structure": structure or typed or None,
        "campaign": _int(data.get("campaign")),
        "not_in_difficulty": bool(data.get("not_in_difficulty")),
        "save_to_structure": bool(data.get("save_to_structure")),
        "beneficiary_category": _int(data.get("beneficiary_category")),
        "pacage": (data.get("pacage") or "")[:9],
    }
    if structure is not None:
        accounts = selectors.active_bank_accounts([structure.pk]).order_by("label")
        chosen = _int(data.get("bank_account"))
        account = accounts.filter(pk=chosen).first() if chosen else None
        account = account or accounts.first()
        initial["bank_account"] = account.pk if account else None
        if structure.beneficiary_category_id:
            initial["beneficiary_category"] = structure.beneficiary_category_id
        if structure.pacage:
            initial["pacage"] = structure.pacage
    return initial


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@require_http_methods(["GET", "POST"])
def request_create(request):
    today = timezone.localdate()
    existing = None
    if request.method == "POST" and "prefill" in request.POST:
        form = HeaderForm(
            initial=_header_initial(request, request.POST, today), user=request.user, today=today
        )
    elif request.method == "POST":
        form = HeaderForm(request.POST, user=request.user, today=today)
        if form.is_valid():
            try:
                refund_request = services.refund_request_create(
                    user=request.user,
                    structure=form.cleaned_data["structure"],
                    campaign=form.cleaned_data["campaign"],
                    header=form.header(),
                )
            except services.DuplicateRequestError as exc:
                existing = exc.existing
                form.add_error(None, exc.messages)
            except services.RefundError as exc:
                form.add_error(exc.field, exc.messages)
            else:
                messages.success(
                    request, "Votre demande est enregistrée en brouillon. Ajoutez les lignes de demande."
                )
                return redirect("reimbursements:detail", pk=refund_request.pk)
    else:
        form = HeaderForm(
            initial=_header_initial(request, request.GET, today), user=request.user, today=today
        )
    if (
        existing is not None
        and not selectors.refund_requests_for_user(request.user).filter(pk=existing.pk).exists()
    ):
        existing = None
    return render(
        request,
        "reimbursements/header_form.html",
        {
            "form": form,
            "refund_request": None,
            "existing": existing,
            "has_structures": selectors.filing_structures(request.user).exists(),
        },
    )


@require_http_methods(["GET", "POST"])
def request_header(request, pk):
    refund_request = _get_request(request, pk)
    if not refund_request.is_editable:
        messages.error(request, "Cette demande ne peut plus être modifiée.")
        return redirect("reimbursements:detail", pk=pk)
    if request.method == "POST":
        form = HeaderForm(request.POST, user=request.user, refund_request=refund_request)
        if form.is_valid():
            try:
                services.refund_request_update_header(
                    refund_request_id=refund_request.pk, user=request.user, header=form.header()
                )
            except services.RefundError as exc:
                form.add_error(exc.field, exc.messages)
            else:
                messages.success(request, "L'en-tête de la demande est enregistré.")
                return redirect("reimbursements:detail", pk=pk)
    else:
        form = HeaderForm(
            initial={
                "bank_account": refund_request.bank_account_id,
                "beneficiary_category": refund_request.beneficiary_category_id,
                "pacage": refund_request.pacage,
                "not_in_difficulty": refund_request.not_in_difficulty,
            },
            user=request.user,
            refund_request=refund_request,
        )
    return render(
        request,
        "reimbursements/header_form.html",
        {"form": form, "refund_request": refund_request, "existing": None, "has_structures": True},
    )


def _filing_form(refund_request: RefundRequest, data=None) -> FilingForm | None:
    if not refund_request.is_editable:
        return None
    offer = advances.offer_for(refund_request.campaign)
    regularise = advances.received(structure_id=refund_request.structure_id, year=refund_request.year)
    return FilingForm(
        data,
        offer=offer,
        advance_amount=advance_amount(refund_request.total_amount, offer.rate) if offer else None,
        regularise_year=refund_request.year if regularise else None,
    )


def _render_detail(request, refund_request: RefundRequest, filing_form: FilingForm | None, status=200):
    lines = list(refund_request.lines.select_related("product"))
    events = list(refund_request.events.select_related("actor"))
    offer = advances.offer_for(refund_request.campaign)
    return render(
        request,
        "reimbursements/detail.html",
        {
            "refund_request": refund_request,
            "lines": lines,
            "events": events,
            "filing_form": filing_form,
            "offer": offer,
            "offer_amount": advance_amount(refund_request.total_amount, offer.rate) if offer else None,
            "requested_advance": Advance.objects.filter(request=refund_request).first(),
            "deduction": advances.deduction(refund_request),
            "has_rates": refund_request.campaign.rates.exists(),
        },
        status=status,
    )


@require_safe
def request_detail(request, pk):
    refund_request = _get_request(request, pk)
    return _render_detail(request, refund_request, _filing_form(refund_request))


@require_http_methods(["GET", "POST"])
def line_create(request, pk):
    return _line_form(request, _get_request(request, pk), line=None)


@require_http_methods(["GET", "POST"])
def line_update(request, pk, line_pk):
    line = _get_line(request, pk, line_pk)
    return _line_form(request, _get_request(request, pk), line=line)


def _line_form(request, refund_request: RefundRequest, *, line: RefundLine | None):
    if not refund_request.is_editable:
        messages.error(request, "Cette demande ne peut plus être modifiée.")
        return redirect("reimbursements:detail", pk=refund_request.pk)
    campaign = refund_request.campaign
    if request.method == "POST":
        form = LineForm(request.POST, request.FILES, campaign=campaign, line=line)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.refund_line_save(
                    refund_request_id=refund_request.pk,
                    line_id=line.pk if line else None,
                    invoice_number=data["invoice_number"],
                    delivery_date=data["delivery_date"],
                    product=data["product"],
                    quantity=data["quantity"],
                    invoice_copy=data["invoice_copy"] or None,
                )
            except services.RefundError as exc:
                form.add_error(exc.field, exc.messages)
            else:
                messages.success(request, f"La ligne « {data['invoice_number']} » est enregistrée.")
                if "add_another" in request.POST:
                    return redirect("reimbursements:line_create", pk=refund_request.pk)
                return redirect("reimbursements:detail", pk=refund_request.pk)
    elif line is not None:
        form = LineForm(
            initial={
                "invoice_number": line.invoice_number,
                "delivery_date": line.delivery_date,
                "product": line.product_id,
                "quantity": line.quantity,
            },
            campaign=campaign,
            line=line,
        )
    else:
        form = LineForm(campaign=campaign)
    return render(
        request,
        "reimbursements/line_form.html",
        {
            "refund_request": refund_request,
            "line": line,
            "form": form,
            "rates": selectors.campaign_rates(campaign),
            "estimate": _estimate(refund_request, line, form.data if form.is_bound else form.initial),
        },
    )


def _estimate(refund_request, line, data) -> dict:
    result = estimate(campaign=refund_request.campaign, data=data)
    others = refund_request.lines.exclude(pk=line.pk if line else None).aggregate(total=Sum("amount"))[
        "total"
    ]
    result["total"] = (others or 0) + (result["amount"] or 0)
    return result


@require_safe
def line_estimate(request, pk):
    """The live amount and total as the user types (htmx). The save computes them again."""
    refund_request = _get_request(request, pk)
    line = None
    if line_pk := _int(request.GET.get("line")):
        line = _get_line(request, pk, line_pk)
    return render(
        request,
        "reimbursements/_estimate.html",
        {"estimate": _estimate(refund_request, line, request.GET), "refund_request": refund_request},
    )


@require_POST
def line_delete(request, pk, line_pk):
    line = _get_line(request, pk, line_pk)
    try:
        services.refund_line_delete(refund_request_id=pk, line_id=line.pk)
    except services.RefundError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, f"La ligne « {line.invoice_number} » est supprimée.")
    return redirect("reimbursements:detail", pk=pk)


@require_safe
def line_invoice(request, pk, line_pk):
    line = _get_line(request, pk, line_pk)
    return private_file_response(line.invoice_copy, download_name=line.invoice_original_name or "facture")


@require_POST
def request_file(request, pk):
    refund_request = _get_request(request, pk)
    if not refund_request.is_editable:
        messages.info(request, f"Cette demande a déjà été déposée sous le numéro {refund_request.number}.")
        return redirect("reimbursements:detail", pk=pk)
    form = _filing_form(refund_request, request.POST)
    if not form.is_valid():
        return _render_detail(request, refund_request, form)
    try:
        refund_request = services.refund_request_file(
            refund_request_id=refund_request.pk, user=request.user, **form.filing()
        )
    except services.AlreadyFiledError as exc:
        messages.info(request, exc.messages[0])
    except services.RefundError as exc:
        form.add_error(None, exc.messages)
        return _render_detail(request, refund_request, form)
    else:
        messages.success(
            request,
            f"Votre demande est déposée sous le numéro {refund_request.number}. "
            "Un accusé de dépôt est téléchargeable ci-dessous.",
        )
    return redirect("reimbursements:detail", pk=pk)


@require_safe
def request_receipt(request, pk):
    refund_request = _get_request(request, pk)
    if refund_request.number is None or refund_request.status == RefundRequest.Status.DRAFT:
        raise Http404
    return receipt.receipt_response(refund_request)
