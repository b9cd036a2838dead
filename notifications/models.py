"""Scheduled reminders, the firms' daily digest and the users' notification preferences.

A reminder is a row unique per (recipient, kind, structure, object, occasion): the daily job inserts the
reminders that are due with ON CONFLICT DO NOTHING and mails only the rows its own run inserted, so a job
run twice, a retried task or two beat processes send each reminder once.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from chorus.outbox.models import OutboxMail
from structures.models import Structure


class Kind(models.TextChoices):
    """Kinds of reminder; each can be switched off in « Mon compte » → « Notifications »."""

    CAMPAIGN_OPEN = "campaign_open", "Ouverture d'une campagne de dépôt"
    CAMPAIGN_CLOSING = "campaign_closing", "Clôture prochaine d'une campagne sans demande déposée"
    REQUEST_TO_COMPLETE = "request_to_complete", "Demande de remboursement toujours à compléter"
    ATTACHMENT_PENDING = "attachment_pending", "Demande de rattachement en attente"
    ADVANCE_TO_REGULARISE = "advance_to_regularise", "Avance à régulariser avant sa date limite"


class Reminder(models.Model):
    """One reminder of one kind, about one object (a campaign for a structure, a refund request, an
    attachment request, an advance), at one occasion (« 30 days before closing », « 7 days after »…)."""

    class State(models.TextChoices):
        PENDING = "pending", "À envoyer"
        SENT = "sent", "Envoyé"
        SKIPPED = "skipped", "Non envoyé (compte désactivé ou désabonné)"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="destinataire", on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField("type", max_length=30, choices=Kind.choices)
    structure = models.ForeignKey(
        Structure, verbose_name="structure", on_delete=models.CASCADE, related_name="+"
    )
    # The campaign, refund request, attachment request or advance, depending on the kind.
    object_id = models.PositiveBigIntegerField("objet")
    occasion = models.CharField("occasion", max_length=40)
    state = models.CharField("état", max_length=10, choices=State.choices, default=State.PENDING)
    batch = models.UUIDField("exécution")
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    sent_at = models.DateTimeField("envoyé le", null=True, blank=True)
    mail = models.ForeignKey(
        OutboxMail,
        verbose_name="courriel",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = "rappel"
        verbose_name_plural = "rappels"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "kind", "structure", "object_id", "occasion"],
                name="reminder_once_per_occasion",
            ),
            models.CheckConstraint(
                condition=~Q(state="sent") | Q(sent_at__isnull=False), name="reminder_sent_has_date"
            ),
        ]
        indexes = [
            models.Index(fields=["batch"], name="reminder_batch_idx"),
            # Each run delivers what is still pending (digest items held over to the next day).
            models.Index(fields=["recipient"], name="reminder_pending_idx", condition=Q(state="pending")),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.occasion} → {self.recipient_id}"


class Digest(models.Model):
    """The one daily mail of a user attached to many structures: unique per day, so a second run on the
    same day holds new items over to the next digest instead of sending a second mail."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="destinataire", on_delete=models.CASCADE, related_name="+"
    )
    day = models.DateField("jour")
    batch = models.UUIDField("exécution")
    mail = models.ForeignKey(
        OutboxMail,
        verbose_name="courriel",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField("créé le", auto_now_add=True)

    class Meta:
        verbose_name = "récapitulatif quotidien"
        verbose_name_plural = "récapitulatifs quotidiens"
        ordering = ["-day", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "day"], name="digest_one_per_recipient_day"),
        ]

    def __str__(self):
        return f"{self.day:%d/%m/%Y} → {self.recipient_id}"


class OptOut(models.Model):
    """A kind of reminder the user switched off (from « Notifications » or a mail's unsubscribe link).
    No row: the kind is on."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="utilisateur", on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField("type", max_length=30, choices=Kind.choices)
    created_at = models.DateTimeField("désabonné le", auto_now_add=True)

    class Meta:
        verbose_name = "désabonnement"
        verbose_name_plural = "désabonnements"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="optout_one_per_user_kind"),
        ]

    def __str__(self):
        return f"{self.user_id} · {self.get_kind_display()}"
