from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from support import services
from support.assistant import assistant_tree
from support.models import AssistantAnswerStat, SupportReply, SupportTicket


class TicketAdminForm(forms.ModelForm):
    """Support staff change the status and write an answer; the answer is mailed to the ticket's address
    and shown in the user's « Mes tickets »."""

    reply = forms.CharField(
        label="Nouvelle réponse",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 8, "cols": 80}),
        help_text="Envoyée par courriel à l'adresse de contact et affichée dans « Mes tickets ». "
        "Répondre à un ticket « Nouveau » le passe « En cours ».",
    )

    class Meta:
        model = SupportTicket
        fields = ["status"]

    def clean(self):
        cleaned = super().clean()
        if "status" in cleaned and self.instance.pk:
            current = SupportTicket.objects.values_list("status", flat=True).get(pk=self.instance.pk)
            try:
                services.ticket_status_check(current=current, new=cleaned["status"])
            except services.SupportError as exc:
                self.add_error("status", str(exc))
        return cleaned


class SupportReplyInline(admin.StackedInline):
    model = SupportReply
    extra = 0
    fields = ("created_at", "author", "body")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SupportTicket)
class SupportTicketAdmin(admin.ModelAdmin):
    form = TicketAdminForm
    list_display = ("number", "created_at", "situation", "subject", "email", "status")
    list_display_links = ("number", "subject")
    list_filter = ("status", "situation", "created_at")
    search_fields = ("number", "subject", "email", "message", "user__last_name", "user__first_name")
    list_select_related = ("user",)
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    inlines = [SupportReplyInline]
    readonly_fields = (
        "number",
        "created_at",
        "user",
        "email",
        "situation",
        "subject",
        "message",
        "attachment_link",
    )
    fieldsets = (
        (
            "Demande",
            {"fields": ("number", "created_at", "user", "email", "situation", "subject", "message", "attachment_link")},
        ),
        ("Traitement", {"fields": ("status", "reply")}),
    )

    def has_add_permission(self, request):
        return False  # tickets come from « Envoyer un ticket »

    @admin.display(description="pièce jointe")
    def attachment_link(self, obj):
        if not obj.attachment:
            return "—"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("support:ticket_attachment", args=[obj.pk]),
            obj.attachment_name or "Télécharger",
        )

    def save_model(self, request, obj, form, change):
        # The service locks the ticket, records the answer, changes the status and queues the mail.
        services.ticket_answer(
            ticket_id=obj.pk, author=request.user, body=form.cleaned_data["reply"], status=obj.status
        )

    def save_related(self, request, form, formsets, change):
        """Replies are read-only here: nothing else to save."""


@admin.register(AssistantAnswerStat)
class AssistantAnswerStatAdmin(admin.ModelAdmin):
    """Which answers of Claudia help and which fail (« Cette réponse vous a-t-elle aidé ? »)."""

    list_display = ("answer", "helpful", "not_helpful", "failure_rate", "updated_at")
    search_fields = ("node",)
    ordering = ("-not_helpful", "node")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="réponse", ordering="node")
    def answer(self, obj):
        node = assistant_tree().nodes.get(obj.node)
        return node.question if node else f"{obj.node} (retirée de l'arbre)"

    @admin.display(description="part de « Non »")
    def failure_rate(self, obj):
        total = obj.helpful + obj.not_helpful
        return f"{round(100 * obj.not_helpful / total)} %" if total else "—"
