"""Bulk jobs in the admin, read only: support staff see who imported what, where a job stands and why it
failed; the verdicts themselves stay on the user's page and report."""

from django.contrib import admin

from reimbursements.import_models import ImportJob


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["pk", "kind", "status", "user", "lines_original_name", "done", "total", "created_at"]
    list_filter = ["kind", "status"]
    list_select_related = ["user"]
    search_fields = ["user__email", "lines_original_name"]
    autocomplete_fields = ["user"]
    fields = [
        "user",
        "kind",
        "status",
        "lines_original_name",
        "archive_original_name",
        "not_in_difficulty",
        "done",
        "total",
        "error",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        return super().get_queryset(request).defer("rows", "results", "request_ids")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
