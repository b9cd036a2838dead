from django import forms
from django.contrib import admin
from django.template.defaultfilters import linebreaksbr
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.timezone import localtime

from support import services
from support.assistant import assistant_tree
from support.models import AssistantAnswerStat, SupportTicket


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
    readonly_fields = (
        "number",
        "created_at",
        "user",
        "email",
        "situation",
        "subject",
        "message",
        "attachment_link",
        "replies_sent",
    )
    fieldsets = (
        (
            "Demande",
            {
                "fields": (
                    "number",
                    "created_at",
                    "user",
                    "email",
                    "situation",
                    "subject",
                    "message",
                    "attachment_link",
                )
            },
        ),
        ("Traitement", {"fields": ("replies_sent", "status", "reply")}),
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

    @admin.display(description="réponses envoyées")
    def replies_sent(self, obj):
        replies = obj.replies.select_related("author")
        if not replies:
            return "Aucune réponse pour le moment."
        return format_html_join(
            "",
            "<p><strong>{} — {}</strong><br>{}</p>",
            (
                (
                    date_format(localtime(reply.created_at), "j F Y à H:i"),
                    reply.author.get_full_name() if reply.author else "—",
                    linebreaksbr(reply.body, autoescape=True),
                )
                for reply in replies
            ),
        )

    def save_model(self, request, obj, form, change):
        # The service locks the ticket, records the answer, changes the status and queues the mail.
        services.ticket_answer(
            ticket_id=obj.pk, author=request.user, body=form.cleaned_data["reply"], status=obj.status
        )


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
