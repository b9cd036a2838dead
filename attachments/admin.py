from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.template.response import TemplateResponse

from attachments.models import AttachmentRequest
from attachments.services import (
    BULK_APPROVAL_MAX,
    REFUSAL_REASON_MAX_LENGTH,
    AttachmentRequestError,
    attachment_request_approve_many,
    attachment_request_refuse,
)


class RefusalForm(forms.Form):
    refusal_reason = forms.CharField(
        label="Motif du refus",
        max_length=REFUSAL_REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        help_text="Transmis à chaque demandeur par courriel.",
    )


@admin.register(AttachmentRequest)
class AttachmentRequestAdmin(admin.ModelAdmin):
    """Read-only rows: decisions go through the same services as « Approbations » (lock, membership, mail)."""

    list_display = ("requester", "structure", "service", "status", "created_at", "decided_by", "decided_at")
    # No filter per structure: it would list every structure with a request; search by SIRET instead.
    list_filter = ("status", "created_at")
    list_select_related = ("requester", "structure", "service", "decided_by")
    search_fields = (
        "requester__email",
        "requester__last_name",
        "requester__first_name",
        "structure__siret",
        "structure__name",
    )
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in AttachmentRequest._meta.fields]
    actions = ["approve", "refuse"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Approuver les demandes sélectionnées", permissions=["change"])
    def approve(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True)[: BULK_APPROVAL_MAX + 1])
        try:
            result = attachment_request_approve_many(
                attachment_request_ids=ids, decided_by=request.user, by_administrator=True
            )
        except AttachmentRequestError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return None
        if result.approved:
            self.message_user(
                request, f"{len(result.approved)} demande(s) de rattachement approuvée(s).", messages.SUCCESS
            )
        for reason in result.skipped:
            self.message_user(request, reason, messages.WARNING)
        return None

    @admin.action(description="Refuser les demandes sélectionnées (avec un motif)", permissions=["change"])
    def refuse(self, request, queryset):
        form = RefusalForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            refused = 0
            for attachment_request in queryset.order_by("pk"):
                try:
                    attachment_request_refuse(
                        attachment_request_id=attachment_request.pk,
                        decided_by=request.user,
                        reason=form.cleaned_data["refusal_reason"],
                        by_administrator=True,
                    )
                except AttachmentRequestError as exc:
                    self.message_user(request, f"{attachment_request} : {exc.message}", messages.WARNING)
                else:
                    refused += 1
            if refused:
                self.message_user(
                    request, f"{refused} demande(s) de rattachement refusée(s).", messages.SUCCESS
                )
            return None
        return TemplateResponse(
            request,
            "admin/attachments/attachmentrequest/refuse.html",
            {
                **self.admin_site.each_context(request),
                "title": "Refuser des demandes de rattachement",
                "opts": self.model._meta,
                "form": form,
                "queryset": queryset.select_related("requester", "structure"),
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
            },
        )
