from django.conf import settings
from django.db import models
from django.db.models import Q


class SupportTicket(models.Model):
    """A request for help sent through « Nous contacter » → « Envoyer un ticket »."""

    class Situation(models.TextChoices):
        CONNECTION = "connection", "Problème de connexion"
        ATTACHMENT = "attachment", "Rattachement à une structure"
        BANK_DETAILS = "bank_details", "Coordonnées bancaires"
        REFUND = "refund", "Demande de remboursement"
        OTHER = "other", "Autre"

    class Status(models.TextChoices):
        NEW = "new", "Nouveau"
        IN_PROGRESS = "in_progress", "En cours"
        RESOLVED = "resolved", "Résolu"

    # NULL only inside ticket_create()'s transaction, until the id it is made from is known.
    number = models.CharField("numéro", max_length=20, unique=True, null=True, editable=False)  # noqa: DJ001
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="compte",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="support_tickets",
        help_text="Vide quand le ticket a été envoyé sans être connecté.",
    )
    email = models.EmailField("adresse électronique de contact", max_length=254)
    situation = models.CharField("situation", max_length=20, choices=Situation.choices)
    subject = models.CharField("objet", max_length=150)
    message = models.TextField("message", max_length=5000)
    attachment = models.FileField("pièce jointe", upload_to="support/%Y/%m/", blank=True)
    attachment_name = models.CharField("nom de la pièce jointe", max_length=255, blank=True)
    status = models.CharField("statut", max_length=20, choices=Status.choices, default=Status.NEW)
    created_at = models.DateTimeField("date d'envoi", auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField("dernière modification", auto_now=True)

    class Meta:
        verbose_name = "ticket"
        verbose_name_plural = "tickets"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["new", "in_progress", "resolved"]),
                name="support_ticket_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(situation__in=["connection", "attachment", "bank_details", "refund", "other"]),
                name="support_ticket_situation_valid",
            ),
            # Visitors may only report a connection problem: anything else needs an account.
            models.CheckConstraint(
                condition=Q(user__isnull=False) | Q(situation="connection"),
                name="support_ticket_visitor_connection_only",
                violation_error_message="Sans être connecté, seul un « Problème de connexion » peut être signalé.",
            ),
        ]

    def __str__(self):
        return f"Ticket {self.number} — {self.subject}"


class SupportReply(models.Model):
    """An answer written by support staff in the admin; mailed to the ticket's address."""

    ticket = models.ForeignKey(
        SupportTicket, verbose_name="ticket", on_delete=models.CASCADE, related_name="replies"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="auteur",
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    body = models.TextField("réponse", max_length=5000)
    created_at = models.DateTimeField("date", auto_now_add=True)

    class Meta:
        verbose_name = "réponse du support"
        verbose_name_plural = "réponses du support"
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"Réponse du {self.created_at:%d/%m/%Y %H:%M}"


class AssistantAnswerStat(models.Model):
    """How many times « Cette réponse vous a-t-elle aidé ? » got « Oui » or « Non » for one answer of the
    assistant's tree (the node id of support/assistant.toml)."""

    node = models.SlugField("réponse", max_length=80, unique=True)
    helpful = models.PositiveIntegerField("oui", default=0)
    not_helpful = models.PositiveIntegerField("non", default=0)
    updated_at = models.DateTimeField("dernier avis", auto_now=True)

    class Meta:
        verbose_name = "avis sur une réponse de Claudia"
        verbose_name_plural = "avis sur les réponses de Claudia"
        ordering = ["-not_helpful", "node"]

    def __str__(self):
        return self.node
