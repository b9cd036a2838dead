from django.db import models


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
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    updated_at = models.DateTimeField("modifié le", auto_now=True)
    sent_at = models.DateTimeField("envoyé le", null=True, blank=True)

    class Meta:
        verbose_name = "courriel"
        verbose_name_plural = "courriels"
        ordering = ["-created_at"]
        indexes = [
            # The sweep scans only what is still to send.
            models.Index(
                fields=["updated_at"], name="outbox_pending_idx", condition=models.Q(status="pending")
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
