from email.utils import parseaddr

from django.conf import settings
from django.db import models
from django.utils import timezone


class OutboxMail(models.Model):
    """A mail written in the same transaction as the change that causes it, sent by Celery after commit."""

    class Status(models.TextChoices):
        PENDING = "pending", "À envoyer"
        SENT = "sent", "Envoyé"
        FAILED = "failed", "Échec"

    recipients = models.JSONField("destinataires")
    subject = models.CharField("objet", max_length=255)
    body_text = models.TextField("texte")
    body_html = models.TextField("HTML", blank=True)
    template = models.CharField("modèle", max_length=100)
    # Extra headers sent as they are, e.g. List-Unsubscribe on reminders (RFC 8058).
    headers = models.JSONField("en-têtes", default=dict, blank=True)
    status = models.CharField("état", max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField("tentatives", default=0)
    last_error = models.TextField("dernière erreur", blank=True)
    # When the sweep may hand the mail to a worker again: the back-off after a failed attempt, or a short
    # lease after a dispatch (so the sweep leaves the queued task its chance first).
    next_attempt_at = models.DateTimeField("prochaine tentative", default=timezone.now)
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    updated_at = models.DateTimeField("modifié le", auto_now=True)
    sent_at = models.DateTimeField("envoyé le", null=True, blank=True)

    class Meta:
        verbose_name = "courriel"
        verbose_name_plural = "courriels"
        ordering = ["-created_at"]
        indexes = [
            # The sweep scans only what is still to send, by due time.
            models.Index(
                fields=["next_attempt_at"],
                name="outbox_pending_due_idx",
                condition=models.Q(status="pending"),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="sent", sent_at__isnull=False) | ~models.Q(status="sent"),
                name="outbox_sent_has_date",
            ),
        ]

    def __str__(self):
        return f"{self.subject} → {', '.join(self.recipients)}"

    @property
    def message_id(self) -> str:
        """The same for every attempt at this row, so a receiver drops the second copy when a worker dies
        between the SMTP send and the commit that records it. The creation time keeps it unique across
        databases (a staging copy reusing ids)."""
        domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "localhost"
        return f"<outbox.{self.pk}.{self.created_at:%Y%m%d%H%M%S%f}@{domain}>"
