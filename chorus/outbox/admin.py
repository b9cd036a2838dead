from django.contrib import admin, messages

from chorus.outbox.models import OutboxMail
from chorus.outbox.services import mail_resend


@admin.register(OutboxMail)
class OutboxMailAdmin(admin.ModelAdmin):
    list_display = ("subject", "recipients", "status", "attempts", "next_attempt_at", "created_at", "sent_at")
    list_filter = ("status", "template")
    search_fields = ("subject", "recipients")
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in OutboxMail._meta.fields]
    actions = ["resend"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Renvoyer les courriels sélectionnés", permissions=["change"])
    def resend(self, request, queryset):
        count = mail_resend(mail_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{count} courriel(s) remis dans la file d'envoi.", messages.SUCCESS)
