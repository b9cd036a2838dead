import re

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from chorus.ratelimit import exceeded, too_many_requests, value_key
from chorus.uploads import private_file_response
from structures import pickers, selectors, services, sirene
from structures.forms import (
    BankAccountForm,
    ManageSelectForm,
    RefundInformationForm,
    ServiceForm,
    StructureCreateForm,
    StructureSiretForm,
)
from structures.models import BankAccount, Membership, Structure


@require_safe
def index(request: HttpRequest) -> HttpResponse:
    """Domain « Organisation »: the user's structures (searched and paginated: a firm may have thousands)
    and the « Structures » applications."""
    query = request.GET.get("q", "").strip()[:250]
    memberships = selectors.memberships_of_user(user=request.user, query=query)
    page = Paginator(memberships, MEMBERSHIPS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "structures/index.html", {"page": page, "q": query})


SEARCH_PAGE_SIZE = 50
MEMBERSHIPS_PAGE_SIZE = 50
MEMBERS_PAGE_SIZE = 50


@require_safe
def search(request: HttpRequest) -> HttpResponse:
    """The structure picker's suggestions (an htmx fragment: the combobox's listbox) and, without
    JavaScript, a results page. Only structures of the named scope for this user are searched."""
    scope_name = request.GET.get("scope", "")
    if scope_name not in pickers.SCOPES:
        raise Http404
    scope = pickers.SCOPES[scope_name]
    if scope.siret_only and exceeded(
        request, "structure-search", {"user": (value_key(str(request.user.pk)), "600/h")}
    ):
        return too_many_requests(request)
    field = request.GET.get("field", "")
    text = request.GET.get(field if field and field != "scope" else "q", "")[:250]
    found = pickers.search(pickers.structures_in_scope(scope_name, request.user), text, scope=scope)
    if request.htmx:
        list_id = request.GET.get("list", "")
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,100}", list_id):
            raise Http404
        structures = list(found[: pickers.SUGGESTIONS])
        total = len(structures) if len(structures) < pickers.SUGGESTIONS else found.count()
        return render(
            request,
            "structures/_suggestions.html",
            {"structures": structures, "total": total, "list_id": list_id},
        )
    page = Paginator(found, SEARCH_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "structures/search.html",
        {"page": page, "q": text, "scope": scope_name, "siret_only": scope.siret_only},
    )


@require_http_methods(["GET", "POST"])
def structure_create(request: HttpRequest) -> HttpResponse:
    """Two steps in one URL: the SIRET first; then raison sociale and address (pre-filled by the register
    when it answers), then creation."""
    if request.method == "GET":
        return render(request, "structures/create_siret.html", {"form": StructureSiretForm()})
    # Both steps tell whether a SIRET is registered: limit how many a user may try.
    if exceeded(request, "structure-siret", {"user": (value_key(str(request.user.pk)), "30/h")}):
        return too_many_requests(request)
    if request.POST.get("step") == "details":
        form = StructureCreateForm(request.POST)
        if not form.is_valid():
            if form.has_error("siret"):
                return render(
                    request, "structures/create_siret.html", {"form": StructureSiretForm(request.POST)}
                )
            return render(request, "structures/create_details.html", {"form": form})
        try:
            structure = services.structure_create(**form.cleaned_data, created_by=request.user)
        except services.StructureAlreadyExists as exc:
            siret_form = StructureSiretForm(request.POST)
            siret_form.is_valid()
            siret_form.add_error("siret", exc.message)
            return render(request, "structures/create_siret.html", {"form": siret_form, "exists": True})
        messages.success(
            request,
            f"La structure {structure.name} est créée. Vous en êtes le gestionnaire principal et y êtes rattaché.",
        )
        return redirect("structures:update", pk=structure.pk)

    form = StructureSiretForm(request.POST)
    if not form.is_valid():
        return render(request, "structures/create_siret.html", {"form": form})
    siret = form.cleaned_data["siret"]
    if Structure.objects.filter(siret=siret).exists():
        form.add_error("siret", services.StructureAlreadyExists().message)
        return render(request, "structures/create_siret.html", {"form": form, "exists": True})
    company = sirene.company_lookup(siret)
    initial = {"siret": siret, "country": "France"}
    if company:
        initial.update(name=company.name, street=company.street, postcode=company.postcode, city=company.city)
    return render(
        request,
        "structures/create_details.html",
        {"form": StructureCreateForm(initial=initial), "prefilled": company is not None},
    )


def _manage_context(request, *, structures: QuerySet[Structure], structure=None, form=None) -> dict:
    select_form = ManageSelectForm(
        structures=structures,
        # « Modifier une structure » is the only type of request: chosen already.
        initial={"type_demande": ManageSelectForm.MODIFY, "identifiant": structure},
    )
    context = {"select_form": select_form, "has_structures": structures.exists(), "structure": structure}
    if structure is not None:
        context["form"] = form or RefundInformationForm(instance=structure)
        context["changes"] = selectors.structure_changes(structure=structure)[:50]
    return context


@require_safe
def manage(request: HttpRequest) -> HttpResponse:
    """« Gérer une structure »: choose « Type de demande » and « Identifiant »; the block follows."""
    structures = selectors.structures_managed(user=request.user)
    if request.GET:
        select_form = ManageSelectForm(request.GET, structures=structures)
        if select_form.is_valid():
            structure = select_form.cleaned_data["identifiant"]
            if request.htmx:
                # Picking the structure reveals its block at once (the page swaps it in); the address
                # becomes the structure's own, as after the button.
                context = _manage_context(
                    request, structures=structures.select_related("beneficiary_category"), structure=structure
                )
                response = render(request, "structures/manage.html", context)
                response["HX-Push-Url"] = reverse("structures:update", args=[structure.pk])
                return response
            return redirect("structures:update", pk=structure.pk)
        context = _manage_context(request, structures=structures)
        context["select_form"] = select_form
        return render(request, "structures/manage.html", context)
    return render(request, "structures/manage.html", _manage_context(request, structures=structures))


@require_http_methods(["GET", "POST"])
def update(request: HttpRequest, pk: int) -> HttpResponse:
    """« Modifier une structure »: the block « Informations demandes de remboursement »."""
    structures = selectors.structures_managed(user=request.user)
    structure = get_object_or_404(structures.select_related("beneficiary_category"), pk=pk)
    form = None
    if request.method == "POST":
        form = RefundInformationForm(request.POST, instance=structure)
        if form.is_valid():
            try:
                changes = services.structure_update_refund_information(
                    structure_id=structure.pk, by=request.user, **form.cleaned_data
                )
            except services.StructureError as exc:
                form.add_error(None, exc.message)
            else:
                if changes:
                    messages.success(request, "Les informations de la structure sont enregistrées.")
                else:
                    messages.info(request, "Aucune information n'a changé.")
                return redirect("structures:update", pk=structure.pk)
    return render(
        request,
        "structures/manage.html",
        _manage_context(request, structures=structures, structure=structure, form=form),
    )


@require_safe
def bank_account_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.bank_accounts_for_user(user=request.user), MEMBERSHIPS_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "structures/bank_account_list.html",
        {
            "page": page,
            "can_create": selectors.structures_managed(user=request.user).exists(),
        },
    )


@require_http_methods(["GET", "POST"])
def bank_account_create(request: HttpRequest) -> HttpResponse:
    """« Créer une coordonnée bancaire »."""
    structures = selectors.structures_managed(user=request.user)
    if request.method == "POST":
        form = BankAccountForm(request.POST, request.FILES, structures=structures)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.bank_account_create(
                    structure_id=data["structure"].pk,
                    by=request.user,
                    label=data["label"],
                    holder=data["holder"],
                    iban=data["iban"],
                    bic=data["bic"],
                    rib_document=data["rib_document"],
                )
            except services.StructureError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, "La coordonnée bancaire est enregistrée.")
                return redirect("structures:bank_account_list")
    else:
        initial = {}
        typed = request.GET.get("structure", "")
        # Only a number can be a structure's id; anything else (tampered link) is ignored, never a 500.
        if re.fullmatch(r"[0-9]{1,18}", typed) and structures.filter(pk=int(typed)).exists():
            initial["structure"] = int(typed)
        elif len(managed := list(structures[:2])) == 1:
            initial["structure"] = managed[0].pk
        form = BankAccountForm(structures=structures, initial=initial)
    return render(
        request,
        "structures/bank_account_create.html",
        {"form": form, "has_structures": structures.exists()},
    )


@require_http_methods(["GET", "POST"])
def bank_account_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(
        BankAccount.objects.filter(
            structure__in=Structure.objects.managed_by(request.user), is_active=True
        ).select_related("structure"),
        pk=pk,
    )
    if request.method == "POST":
        try:
            services.bank_account_deactivate(bank_account_id=account.pk, by=request.user)
        except services.StructureError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"La coordonnée bancaire « {account.label} » est désactivée.")
        return redirect("structures:bank_account_list")
    return render(request, "structures/bank_account_deactivate.html", {"account": account})


@require_safe
def bank_account_rib(request: HttpRequest, pk: int) -> HttpResponse:
    """The copy of the RIB/IBAN, for users attached to the structure (and staff allowed to view bank
    details). Other apps link here for bank details."""
    account = get_object_or_404(
        selectors.bank_accounts_readable_by(user=request.user, verified=request.user.is_verified()), pk=pk
    )
    return private_file_response(account.rib_document, download_name=account.rib_original_name)


@require_safe
def members(request: HttpRequest, pk: int) -> HttpResponse:
    """A structure's members, paginated: a management centre's own structure may have hundreds."""
    structure = get_object_or_404(selectors.structures_managed(user=request.user), pk=pk)
    memberships = selectors.structure_members(structure=structure)
    page = Paginator(memberships, MEMBERS_PAGE_SIZE).get_page(request.GET.get("page"))
    is_main_manager = memberships.filter(user=request.user, role=Membership.Role.MAIN_MANAGER).exists()
    return render(
        request,
        "structures/members.html",
        {"structure": structure, "page": page, "is_main_manager": is_main_manager},
    )


def _main_manager_target(request: HttpRequest, pk: int, membership_pk: int) -> tuple[Structure, Membership]:
    structure = get_object_or_404(Structure.objects.main_managed_by(request.user), pk=pk)
    membership = get_object_or_404(
        structure.memberships.filter(is_active=True).exclude(user=request.user).select_related("user"),
        pk=membership_pk,
    )
    return structure, membership


@require_http_methods(["GET", "POST"])
def member_transfer(request: HttpRequest, pk: int, membership_pk: int) -> HttpResponse:
    """The main manager hands the role to another member."""
    structure, membership = _main_manager_target(request, pk, membership_pk)
    if request.method == "POST":
        try:
            services.membership_transfer_main_manager(
                structure_id=structure.pk, by=request.user, to_membership_id=membership.pk
            )
        except services.StructureError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                f"{membership.user.get_full_name()} est désormais gestionnaire principal de la structure ; "
                "vous en êtes gestionnaire.",
            )
        return redirect("structures:members", pk=structure.pk)
    return render(
        request,
        "structures/member_confirm.html",
        {
            "structure": structure,
            "membership": membership,
            "action": "transfer",
            "action_url": reverse("structures:member_transfer", args=[structure.pk, membership.pk]),
        },
    )


@require_http_methods(["GET", "POST"])
def member_detach(request: HttpRequest, pk: int, membership_pk: int) -> HttpResponse:
    """The main manager detaches a member who left (deactivated, history kept)."""
    structure, membership = _main_manager_target(request, pk, membership_pk)
    if request.method == "POST":
        try:
            services.membership_detach(
                structure_id=structure.pk, by=request.user, membership_id=membership.pk
            )
        except services.StructureError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"{membership.user.get_full_name()} est détaché de la structure.")
        return redirect("structures:members", pk=structure.pk)
    return render(
        request,
        "structures/member_confirm.html",
        {
            "structure": structure,
            "membership": membership,
            "action": "detach",
            "action_url": reverse("structures:member_detach", args=[structure.pk, membership.pk]),
        },
    )


@require_http_methods(["GET", "POST"])
def service_list(request: HttpRequest, pk: int) -> HttpResponse:
    """The structure's services (sub-units an attachment request may target), and adding one."""
    structure = get_object_or_404(selectors.structures_managed(user=request.user), pk=pk)
    form = ServiceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            service = services.service_create(structure_id=structure.pk, by=request.user, **form.cleaned_data)
        except services.StructureError as exc:
            form.add_error("code", exc.message)
        else:
            messages.success(request, f"Le service « {service.name} » est ajouté.")
            return redirect("structures:service_list", pk=structure.pk)
    return render(
        request,
        "structures/services.html",
        {"structure": structure, "services": structure.services.order_by("name"), "form": form},
    )


@require_POST
def service_toggle(request: HttpRequest, pk: int, service_pk: int) -> HttpResponse:
    structure = get_object_or_404(selectors.structures_managed(user=request.user), pk=pk)
    service = get_object_or_404(structure.services, pk=service_pk)
    services.service_set_active(service_id=service.pk, by=request.user, is_active=not service.is_active)
    if service.is_active:
        messages.success(request, f"Le service « {service.name} » n'est plus proposé.")
    else:
        messages.success(request, f"Le service « {service.name} » est de nouveau proposé.")
    return redirect("structures:service_list", pk=structure.pk)
