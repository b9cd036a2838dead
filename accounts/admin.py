from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django_otp.plugins.otp_email.models import EmailDevice
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.forms import AdminUserChangeForm, AdminUserCreationForm
from accounts.models import ApiToken, User
from accounts.services import user_resend_activation

# Sign-in codes, authenticator secrets (django-otp's TOTP admin shows the key and its QR code) and backup codes
# are never shown, not even to administrators.
admin.site.unregister(EmailDevice)
admin.site.unregister(TOTPDevice)
admin.site.unregister(StaticDevice)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = AdminUserChangeForm
    add_form = AdminUserCreationForm
    ordering = ("last_name", "first_name")
    list_display = (
        "email",
        "last_name",
        "first_name",
        "is_active",
        "activated_at",
        "is_staff",
        "date_joined",
    )
    list_filter = ("is_active", "is_staff", "is_superuser")
    search_fields = ("email", "last_name", "first_name")
    readonly_fields = ("last_login", "date_joined", "activated_at")
    fieldsets = (
        (None, {"fields": ("email",)}),
        (
            "Informations personnelles",
            {"fields": ("last_name", "first_name", "phone", "mobile", "contact_email")},
        ),
        ("Droits", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("activated_at", "last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "last_name", "first_name", "usable_password", "password1", "password2"),
            },
        ),
    )
    actions = ["resend_activation"]

    @admin.action(description="Renvoyer le courriel d'activation", permissions=["change"])
    def resend_activation(self, request, queryset):
        sent = sum(user_resend_activation(user=user) for user in queryset)
        skipped = queryset.count() - sent
        self.message_user(request, f"{sent} courriel(s) d'activation envoyé(s).", messages.SUCCESS)
        if skipped:
            self.message_user(request, f"{skipped} compte(s) déjà activé(s) ignoré(s).", messages.WARNING)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Administrators see and may revoke tokens; the secret exists nowhere to be shown, and tokens are created
    only by their owner in « Mon compte »."""

    list_display = [
        "name",
        "user",
        "scope",
        "prefix",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["scope", ("revoked_at", admin.EmptyFieldListFilter)]
    list_select_related = ["user"]
    search_fields = ["name", "prefix", "user__email"]
    autocomplete_fields = ["user"]
    fields = ["user", "name", "scope", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at"]
    readonly_fields = ["user", "name", "scope", "prefix", "created_at", "expires_at", "last_used_at"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Révoquer les jetons sélectionnés")
    def revoke(self, request, queryset):
        from django.utils import timezone

        revoked = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"{revoked} jeton(s) révoqué(s).", messages.SUCCESS)
