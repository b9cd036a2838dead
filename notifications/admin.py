from django.contrib import admin

from notifications.models import Digest, OptOut, Reminder


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record of what was sent: nothing to add or edit by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Reminder)
class ReminderAdmin(ReadOnlyAdmin):
    list_display = ("kind", "occasion", "recipient", "structure", "state", "created_at", "sent_at")
    list_filter = ("kind", "state")
    search_fields = ("recipient__email", "structure__siret", "structure__name")
    list_select_related = ("recipient", "structure")
    raw_id_fields = ("recipient", "structure", "mail")
    date_hierarchy = "created_at"


@admin.register(Digest)
class DigestAdmin(ReadOnlyAdmin):
    list_display = ("day", "recipient", "created_at")
    search_fields = ("recipient__email",)
    list_select_related = ("recipient",)
    raw_id_fields = ("recipient", "mail")
    date_hierarchy = "day"


@admin.register(OptOut)
class OptOutAdmin(ReadOnlyAdmin):
    list_display = ("user", "kind", "created_at")
    list_filter = ("kind",)
    search_fields = ("user__email",)
    list_select_related = ("user",)
    raw_id_fields = ("user",)
