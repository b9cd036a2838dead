"""Reference data (products, campaigns, rates) edited by administrators; instruction of filed requests by
the « Instructeurs » group, through allowed transitions only (a request is never edited field by field)."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.forms.models import BaseInlineFormSet
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from chorus.uploads import private_file_response
from reimbursements import advances, services
from reimbursements.forms import AdvancePaymentForm, TransitionForm
from reimbursements.models import (
    Advance,
    AdvanceOffer,
    Campaign,
    EnergyProduct,
    RefundEvent,
    RefundLine,
    RefundRate,
    RefundRequest,
)
from structures.models import Structure

INSTRUCT_PERMISSION = "reimbursements.instruct_refundrequest"


@admin.register(EnergyProduct)
class EnergyProductAdmin(admin.ModelAdmin):
    list_display = ["label", "code", "unit", "max_quantity", "position"]
    ordering = ["position"]


class RefundRateFormSet(BaseInlineFormSet):
    """The rates of one campaign, checked together: the rows being saved must not overlap one another
    (each row alone is also checked against the saved ones by the model's constraint)."""

    def clean(self):
        super().clean()
        windows = []
        for form in self.forms:
            if not form.has_changed() and form.instance.pk is None:
                continue
            if self.can_delete and self._should_delete_form(form):
                continue
            rate = form.instance
            if form.errors or rate.product_id is None or rate.deliveries_from is None:
                continue
            windows.append((rate.product, rate.deliveries_from, rate.deliveries_until))
        if problems := services.rate_window_overlaps(windows):
            raise ValidationError(problems)


class RefundRateInline(admin.TabularInline):
    model = RefundRate
    formset = RefundRateFormSet
    extra = 0
    fields = ["product", "amount", "legal_reference", "deliveries_from", "deliveries_until", "closes_on"]


class AdvanceOfferInline(admin.StackedInline):
    model = AdvanceOffer
    extra = 0
    max_num = 1
    fk_name = "campaign"


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["year", "opens_on", "closes_on", "rate_count"]
    inlines = [RefundRateInline, AdvanceOfferInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_rate_count=Count("rates"))

    @admin.display(description="taux saisis", ordering="_rate_count")
    def rate_count(self, obj):
        return obj._rate_count


@admin.register(RefundRate)
class RefundRateAdmin(admin.ModelAdmin):
    list_display = ["campaign", "product", "amount", "deliveries_from", "deliveries_until", "closes_on"]
    fields = [
        "campaign",
        "product",
        "amount",
        "legal_reference",
        "deliveries_from",
        "deliveries_until",
        "closes_on",
    ]
    list_filter = ["campaign__year", "product"]
    list_select_related = ["campaign", "product"]


class DepartmentFilter(admin.SimpleListFilter):
    """Département of the structure's head office, from its postcode (97x and 98x overseas)."""

    title = "département de la structure"
    parameter_name = "departement"

    def lookups(self, request, model_admin):
        postcodes = Structure.objects.filter(refund_requests__isnull=False).values_list("postcode", flat=True)
        departments = sorted({_department(code) for code in postcodes.distinct() if code})
        return [(code, code) for code in departments]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(structure__postcode__startswith=self.value())
        return queryset


def _department(postcode: str) -> str:
    return postcode[:3] if postcode[:2] in {"97", "98"} else postcode[:2]


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class RefundLineInline(ReadOnlyInline):
    model = RefundLine
    fields = [
        "invoice_number",
        "delivery_date",
        "product",
        "quantity",
        "rate",
        "amount",
        "invoice",
    ]
    readonly_fields = ["invoice"]

    @admin.display(description="copie de la facture")
    def invoice(self, obj):
        if not obj.invoice_copy:
            return "—"
        url = reverse("admin:reimbursements_refundrequest_invoice", args=[obj.request_id, obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.invoice_original_name or "facture")


class AdvanceInline(ReadOnlyInline):
    model = Advance
    fk_name = "request"
    verbose_name_plural = "avance demandée avec cette demande"
    fields = ["for_year", "requested_amount", "paid_amount", "paid_on", "recorded_by"]


class NegativeBalanceFilter(admin.SimpleListFilter):
    """Requests whose advance exceeds the refund: the structure owes the difference."""

    title = "solde"
    parameter_name = "solde"

    def lookups(self, request, model_admin):
        return [("negatif", "Solde négatif"), ("avance", "Avance déduite")]

    def queryset(self, request, queryset):
        if self.value() == "negatif":
            return queryset.filter(balance__lt=0)
        if self.value() == "avance":
            return queryset.filter(advance_deducted__isnull=False)
        return queryset


class RefundEventInline(ReadOnlyInline):
    model = RefundEvent
    fields = ["created_at", "label", "to_status", "actor", "comment"]
    readonly_fields = ["created_at"]


@admin.register(RefundRequest)
class RefundRequestAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "structure",
        "siret",
        "year",
        "status",
        "total_amount",
        "advance_deducted",
        "balance_display",
        "filed_at",
    ]
    list_filter = [
        "status",
        NegativeBalanceFilter,
        ("campaign__year", admin.AllValuesFieldListFilter),
        ("lines__product", admin.RelatedOnlyFieldListFilter),
        DepartmentFilter,
    ]
    search_fields = ["number", "structure__siret", "structure__name"]
    list_select_related = ["structure", "campaign"]
    date_hierarchy = "filed_at"
    inlines = [RefundLineInline, AdvanceInline, RefundEventInline]
    change_form_template = "admin/reimbursements/refundrequest/change_form.html"

    readonly_fields = ["rib"]

    @admin.display(description="copie du RIB")
    def rib(self, obj):
        account = obj.bank_account
        if account is None or not account.rib_document:
            return "—"
        url = reverse("structures:bank_account_rib", args=[account.pk])
        return format_html('<a href="{}">{}</a>', url, account.rib_original_name)

    @admin.display(description="solde", ordering="balance")
    def balance_display(self, obj):
        if obj.balance is None:
            return "—"
        if obj.balance < 0:
            return format_html("<strong>{} € à reverser</strong>", -obj.balance)
        return f"{obj.balance} €"

    @admin.display(description="SIRET", ordering="structure__siret")
    def siret(self, obj):
        return obj.structure.siret

    @admin.display(description="année", ordering="campaign__year")
    def year(self, obj):
        return obj.campaign.year

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path(
                "<int:object_id>/lignes/<int:line_id>/facture/",
                self.admin_site.admin_view(self.invoice_view),
                name="reimbursements_refundrequest_invoice",
            ),
            path(
                "<int:object_id>/avance-versee/",
                self.admin_site.admin_view(self.advance_paid_view),
                name="reimbursements_refundrequest_advance_paid",
            ),
            path(
                "<int:object_id>/instruire/",
                self.admin_site.admin_view(self.transition_view),
                name="reimbursements_refundrequest_transition",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_instruct": request.user.has_perm(INSTRUCT_PERMISSION),
            # The admin answers any other path under a change URL (a 404 or a redirect): only look up an id.
            "advance_to_pay": str(object_id).isdigit()
            and Advance.objects.filter(request_id=object_id, paid_amount__isnull=True).exists(),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def invoice_view(self, request, object_id, line_id):
        if not self.has_view_permission(request):
            raise PermissionDenied
        line = get_object_or_404(RefundLine, request_id=object_id, pk=line_id)
        return private_file_response(line.invoice_copy, download_name=line.invoice_original_name or "facture")

    def transition_view(self, request, object_id):
        if not request.user.has_perm(INSTRUCT_PERMISSION):
            raise PermissionDenied
        refund_request = get_object_or_404(
            RefundRequest.objects.select_related("structure", "campaign"), pk=object_id
        )
        allowed = services.TRANSITIONS.get(refund_request.status, set())
        choices = [(status.value, status.label) for status in RefundRequest.Status if status in allowed]
        form = TransitionForm(request.POST or None, choices=choices)
        if request.method == "POST" and form.is_valid():
            try:
                services.refund_request_transition(
                    refund_request_id=refund_request.pk,
                    actor=request.user,
                    to_status=form.cleaned_data["to_status"],
                    comment=form.cleaned_data["comment"],
                    paid_amount=form.cleaned_data["paid_amount"],
                )
            except services.RefundError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.messages)
            else:
                refund_request.refresh_from_db()
                self.message_user(
                    request,
                    f"La demande {refund_request.number} est passée à l'état « {refund_request.get_status_display()} ».",
                    messages.SUCCESS,
                )
                return redirect(
                    reverse("admin:reimbursements_refundrequest_change", args=[refund_request.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": refund_request,
            "title": f"Instruire la demande {refund_request.number or ''}",
            "form": form,
            "choices": choices,
        }
        return TemplateResponse(request, "admin/reimbursements/refundrequest/transition.html", context)

    def advance_paid_view(self, request, object_id):
        """« Avance versée »: the amount and date of the advance paid, recorded once."""
        if not request.user.has_perm(INSTRUCT_PERMISSION):
            raise PermissionDenied
        refund_request = get_object_or_404(
            RefundRequest.objects.select_related("structure", "campaign", "advance__offer"), pk=object_id
        )
        advance = getattr(refund_request, "advance", None)
        form = AdvancePaymentForm(
            request.POST or None, initial={"amount": advance.requested_amount if advance else None}
        )
        if request.method == "POST" and form.is_valid():
            try:
                advances.advance_record_payment(
                    refund_request_id=refund_request.pk,
                    actor=request.user,
                    amount=form.cleaned_data["amount"],
                    paid_on=form.cleaned_data["paid_on"],
                )
            except advances.AdvanceError as exc:
                form.add_error(exc.field, exc.messages)
            else:
                self.message_user(
                    request,
                    f"L'avance versée est enregistrée sur la demande {refund_request.number}.",
                    messages.SUCCESS,
                )
                return redirect(
                    reverse("admin:reimbursements_refundrequest_change", args=[refund_request.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": refund_request,
            "advance": advance,
            "title": f"Avance versée — demande {refund_request.number or ''}",
            "form": form,
        }
        return TemplateResponse(request, "admin/reimbursements/refundrequest/advance_paid.html", context)


@admin.register(Advance)
class AdvanceAdmin(admin.ModelAdmin):
    """Advances asked for and paid, read-only: they are recorded from their request (« Avance versée »)."""

    list_display = ["structure", "for_year", "requested_amount", "paid_amount", "paid_on", "request"]
    list_filter = ["for_year", ("paid_on", admin.EmptyFieldListFilter)]
    search_fields = ["structure__siret", "structure__name", "request__number"]
    list_select_related = ["structure", "request"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# Bulk jobs have their own admin module; importing it registers it.
from reimbursements import import_admin  # noqa: E402, F401
