from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from structures.models import (
    BankAccount,
    BeneficiaryCategory,
    Membership,
    Service,
    Structure,
    StructureChange,
)
from structures.validators import normalize_siret


@admin.register(BeneficiaryCategory)
class BeneficiaryCategoryAdmin(admin.ModelAdmin):
    list_display = ["label", "code", "position", "is_active"]
    list_editable = ["position", "is_active"]
    search_fields = ["label", "code"]


class MembershipInline(admin.TabularInline):
    model = Membership
    fields = ["user", "role", "is_active", "created_at", "updated_by", "updated_at"]
    readonly_fields = ["created_at", "updated_by", "updated_at"]
    autocomplete_fields = ["user"]
    extra = 0
    can_delete = False  # detached members are deactivated, never deleted

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", "updated_by")


class ServiceInline(admin.TabularInline):
    model = Service
    fields = ["name", "code", "is_active"]
    extra = 0


class BankAccountInline(admin.TabularInline):
    model = BankAccount
    fields = ["label", "holder", "masked_iban", "bic", "is_active", "rib_link"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="copie du RIB")
    def rib_link(self, obj):
        return _rib_link(obj)

    @admin.display(description="IBAN")
    def masked_iban(self, obj):
        return obj.masked_iban


class StructureChangeInline(admin.TabularInline):
    model = StructureChange
    fields = ["changed_at", "changed_by", "field", "old_value", "new_value"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("changed_by")


class StructureAdminForm(forms.ModelForm):
    siret = forms.CharField(
        label="SIRET", max_length=20, help_text="14 chiffres ; espaces et points acceptés."
    )

    class Meta:
        model = Structure
        fields = ["siret", "name", "street", "postcode", "city", "country"]
        fields += ["beneficiary_category", "pacage", "is_management_centre"]

    def clean_siret(self):
        # Stored as the 14 digits the database checks, whatever spaces or dots were typed.
        return normalize_siret(self.cleaned_data["siret"])


@admin.register(Structure)
class StructureAdmin(admin.ModelAdmin):
    form = StructureAdminForm
    list_display = ["name", "siret", "city", "beneficiary_category", "is_management_centre", "created_at"]
    list_filter = ["beneficiary_category", "is_management_centre"]
    search_fields = ["siret", "name", "city", "pacage"]
    list_select_related = ["beneficiary_category"]
    readonly_fields = ["created_by", "created_at", "updated_at"]
    inlines = [MembershipInline, ServiceInline, BankAccountInline, StructureChangeInline]
    fieldsets = [
        (None, {"fields": ["siret", "name", "street", "postcode", "city", "country"]}),
        (
            "Informations demandes de remboursement",
            {"fields": ["beneficiary_category", "pacage", "is_management_centre"]},
        ),
        ("Suivi", {"fields": ["created_by", "created_at", "updated_at"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        # A structure is its SIRET: fixed once created (memberships and refund requests rely on it).
        return [*self.readonly_fields, "siret"] if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request, obj=None):
        return False  # refund requests and memberships point to it

    def save_formset(self, request, form, formset, change):
        # Keep who changed a membership from the admin, like the portal does.
        instances = formset.save(commit=False)
        for instance in instances:
            if isinstance(instance, Membership):
                instance.updated_by = request.user
            instance.save()
        formset.save_m2m()


def _rib_link(obj: BankAccount):
    if not obj.pk or not obj.rib_document:
        return "—"
    return format_html(
        '<a href="{}">{}</a>', reverse("structures:bank_account_rib", args=[obj.pk]), obj.rib_original_name
    )


@admin.register(BankAccount)
class BankAccountAdmin(admin.ModelAdmin):
    list_display = ["label", "structure", "holder", "masked_iban", "bic", "is_active", "rib_link"]
    list_filter = ["is_active"]
    search_fields = ["label", "holder", "structure__siret", "structure__name"]
    list_select_related = ["structure"]
    fields = [
        "structure",
        "label",
        "holder",
        "iban",
        "bic",
        "rib_link",
        "is_active",
        "created_by",
        "created_at",
        "updated_at",
    ]
    # The IBAN, BIC and RIB copy go together: a change means new bank details, created in the portal.
    readonly_fields = ["structure", "iban", "bic", "rib_link", "created_by", "created_at", "updated_at"]

    def has_add_permission(self, request):
        return False  # created in the portal, with the RIB copy checked by content

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead: a refund request may use it

    @admin.display(description="copie du RIB")
    def rib_link(self, obj):
        return _rib_link(obj)

    @admin.display(description="IBAN")
    def masked_iban(self, obj):
        return obj.masked_iban


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "structure", "role", "is_active", "updated_at", "updated_by"]
    list_filter = ["role", "is_active"]
    search_fields = ["user__email", "user__last_name", "structure__siret", "structure__name"]
    list_select_related = ["user", "structure", "updated_by"]
    autocomplete_fields = ["user", "structure"]
    readonly_fields = ["created_at", "updated_at", "updated_by"]

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(StructureChange)
class StructureChangeAdmin(admin.ModelAdmin):
    list_display = ["changed_at", "structure", "field", "old_value", "new_value", "changed_by"]
    search_fields = ["structure__siret", "structure__name", "field"]
    list_select_related = ["structure", "changed_by"]
    date_hierarchy = "changed_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
