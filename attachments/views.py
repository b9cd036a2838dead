from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from attachments import selectors
from attachments.forms import (
    ApprovalFilterForm,
    AttachmentRequestForm,
    BulkApprovalForm,
    BulkAttachmentForm,
    BulkSubmitForm,
    DecisionForm,
)
from attachments.models import AttachmentRequest
from attachments.pagination import DeferredJoinPaginator
from attachments.services import (
    AttachmentRequestError,
    attachment_request_approve,
    attachment_request_approve_many,
    attachment_request_cancel,
    attachment_request_create,
    attachment_request_refuse,
    attachment_requests_create_many,
)
from chorus.ratelimit import exceeded, too_many_requests, value_key
from structures.selectors import user_has_structure

PAGE_SIZE = 20
MEMBERSHIPS_PAGE_SIZE = 50


@require_safe
def membership_list(request):
    """« Mes rattachements »."""
    page = Paginator(selectors.memberships_of(user=request.user), MEMBERSHIPS_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "attachments/membership_list.html", {"page": page})


@require_http_methods(["GET", "POST"])
def request_create(request):
    """« Demande de rattachement à une structure »."""
    if request.method == "POST":
        # Every submission looks a SIRET up and may mail managers: cap them per account and per address.
        limits = {"user": (value_key(f"user:{request.user.pk}"), "60/h"), "ip": ("ip", "120/h")}
        if exceeded(request, "attachment-request", limits):
            return too_many_requests(request)
        form = AttachmentRequestForm(request.POST)
        if form.is_valid() and request.POST.get("action") != "services":
            try:
                attachment_request = attachment_request_create(
                    requester=request.user,
                    structure=form.structure,
                    service=form.cleaned_data["service"],
                    comment=form.cleaned_data["comment"],
                )
            except AttachmentRequestError as exc:
                form.add_error("siret", exc.message)
            else:
                messages.success(
                    request,
                    f"Votre demande de rattachement à {attachment_request.structure.name} a été transmise au "
                    "gestionnaire de la structure. Une fois validée, la structure apparaîtra dans la liste "
                    "de vos rattachements.",
                )
                return redirect("attachments:membership_list")
    else:
        # Pages that already know the SIRET (« cette structure existe déjà ») link here with ?siret=.
        form = AttachmentRequestForm(initial={"siret": request.GET.get("siret", "")[:30]})
    return render(
        request,
        "attachments/request_create.html",
        {"form": form, "has_structure": user_has_structure(user=request.user)},
    )


@require_http_methods(["GET", "POST"])
def request_bulk(request):
    """« Demander un rattachement » for many structures: the SIRETs pasted or in a CSV file are checked and
    shown in a report; « Soumettre » on the report sends one request per structure, checked again."""
    if request.method == "GET":
        return render(request, "attachments/request_bulk.html", {"form": BulkAttachmentForm()})
    # A check looks up to 2,000 SIRETs and a submission mails managers: few of either per account.
    limits = {"user": (value_key(f"user:{request.user.pk}"), "20/h"), "ip": ("ip", "60/h")}
    if exceeded(request, "attachment-bulk", limits):
        return too_many_requests(request)
    if request.POST.get("action") == "submit":
        submit = BulkSubmitForm(request.POST)
        if submit.is_valid():
            try:
                created = attachment_requests_create_many(
                    requester=request.user,
                    sirets=submit.cleaned_data["sirets"],
                    comment=submit.cleaned_data["comment"],
                )
            except AttachmentRequestError as exc:
                messages.error(request, exc.message)
            else:
                if created:
                    messages.success(
                        request,
                        f"{len(created)} demande{'s' if len(created) > 1 else ''} de rattachement "
                        f"transmise{'s' if len(created) > 1 else ''} aux gestionnaires des structures. Suivez-les "
                        "dans « Historique de mes demandes ».",
                    )
                else:
                    messages.info(
                        request,
                        "Aucune demande envoyée : ces structures vous sont déjà rattachées ou attendent.",
                    )
                return redirect("attachments:history")
        else:
            messages.error(
                request, "La liste à envoyer est invalide : vérifiez de nouveau les numéros SIRET."
            )
        return redirect("attachments:request_bulk")
    form = BulkAttachmentForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(request, "attachments/request_bulk.html", {"form": form})
    lines = selectors.bulk_check(user=request.user, entries=form.cleaned_data["entries"])
    ready = [line for line in lines if line.is_ok]
    counts: dict[str, int] = {}
    for line in lines:
        counts[line.verdict] = counts.get(line.verdict, 0) + 1
    return render(
        request,
        "attachments/request_bulk_report.html",
        {
            "lines": lines,
            "ready": ready,
            "counts": counts,
            "submit": BulkSubmitForm(
                initial={
                    "sirets": " ".join(line.siret for line in ready),
                    "comment": form.cleaned_data["comment"],
                }
            ),
        },
    )


@require_safe
def history(request):
    """« Historique de mes demandes »."""
    page = Paginator(selectors.history_for(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "attachments/history.html", {"page": page})


@require_safe
def history_detail(request, pk):
    attachment_request = get_object_or_404(selectors.history_for(user=request.user), pk=pk)
    approver = attachment_request.decided_by
    if attachment_request.is_pending:
        approver = selectors.main_manager_of(structure=attachment_request.structure)
    return render(
        request,
        "attachments/history_detail.html",
        {"attachment_request": attachment_request, "approver": approver},
    )


@require_POST
def history_cancel(request, pk):
    attachment_request = get_object_or_404(selectors.history_for(user=request.user), pk=pk)
    try:
        attachment_request_cancel(attachment_request_id=attachment_request.pk, requester=request.user)
    except AttachmentRequestError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Votre demande de rattachement a été annulée.")
    return redirect("attachments:history_detail", pk=attachment_request.pk)


@require_safe
def approval_list(request):
    """« Approbations »: the requests on the structures the user manages."""
    filters = ApprovalFilterForm(request.GET)
    decided, newest_first = filters.values()
    approvals = selectors.approval_list(user=request.user, decided=decided, newest_first=newest_first)
    page = DeferredJoinPaginator(approvals, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request, "attachments/approval_list.html", {"filters": filters, "decided": decided, "page": page}
    )


@require_POST
def approval_bulk_approve(request):
    form = BulkApprovalForm(request.POST, approvals=selectors.approvals_for(user=request.user))
    if not form.is_valid():
        for error in form.errors["requests"]:
            messages.error(request, error)
        return redirect("attachments:approval_list")
    try:
        result = attachment_request_approve_many(
            attachment_request_ids=form.cleaned_data["requests"], decided_by=request.user
        )
    except AttachmentRequestError as exc:
        messages.error(request, exc.message)
        return redirect("attachments:approval_list")
    if result.approved:
        count = len(result.approved)
        messages.success(
            request,
            "1 demande de rattachement approuvée."
            if count == 1
            else f"{count} demandes de rattachement approuvées.",
        )
    for reason in result.skipped:
        messages.warning(request, reason)
    return redirect("attachments:approval_list")


@require_http_methods(["GET", "POST"])
def approval_detail(request, pk):
    """One approval: the list's information, the approver and the comment; « Approuver » / « Refuser »."""
    attachment_request = get_object_or_404(selectors.approvals_for(user=request.user), pk=pk)
    form = DecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            if form.cleaned_data["decision"] == DecisionForm.APPROVE:
                attachment_request_approve(
                    attachment_request_id=attachment_request.pk, decided_by=request.user
                )
                messages.success(
                    request,
                    f"Demande approuvée : le rattachement de {attachment_request.requester.get_full_name()} "
                    f"à {attachment_request.structure.name} est fait ; le demandeur en est informé par courriel.",
                )
            else:
                attachment_request_refuse(
                    attachment_request_id=attachment_request.pk,
                    decided_by=request.user,
                    reason=form.cleaned_data["refusal_reason"],
                )
                messages.success(request, "Demande refusée : le demandeur en est informé par courriel.")
        except AttachmentRequestError as exc:
            messages.error(request, exc.message)
            return redirect("attachments:approval_detail", pk=attachment_request.pk)
        return redirect("attachments:approval_list")
    approver = attachment_request.decided_by if not attachment_request.is_pending else request.user
    return render(
        request,
        "attachments/approval_detail.html",
        {
            "attachment_request": attachment_request,
            "approver": approver,
            "form": form,
            "back_url": reverse("attachments:approval_list")
            + ("?etat=traitees" if attachment_request.status != AttachmentRequest.Status.PENDING else ""),
        },
    )
