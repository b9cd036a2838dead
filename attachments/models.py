from django.conf import settings
from django.db import models
from django.db.models import Q

from structures.models import Service, Structure


class AttachmentRequest(models.Model):
    """« Demande de rattachement » of a user to a structure, decided by one of its managers."""

    class Status(models.TextChoices):
        PENDING = "pending", "À traiter"
        APPROVED = "approved", "Approuvée"
        REFUSED = "refused", "Refusée"
        CANCELLED = "cancelled", "Annulée"

    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="demandeur",
        on_delete=models.PROTECT,
        related_name="attachment_requests",
    )
    structure = models.ForeignKey(
        Structure, verbose_name="structure", on_delete=models.PROTECT, related_name="attachment_requests"
    )
    service = models.ForeignKey(
        Service, verbose_name="service", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    comment = models.TextField("commentaire", blank=True, max_length=2000)
    status = models.CharField("état", max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField("date de demande", auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="approbateur",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField("date de décision", null=True, blank=True)
    refusal_reason = models.TextField("motif du refus", blank=True, max_length=2000)

    class Meta:
        verbose_name = "demande de rattachement"
        verbose_name_plural = "demandes de rattachement"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["requester", "structure"],
                condition=Q(status="pending"),
                name="attachment_one_pending_per_user_structure",
                violation_error_message="Vous avez déjà une demande de rattachement en attente pour cette structure.",
            ),
            models.CheckConstraint(
                condition=~Q(status="refused") | ~Q(refusal_reason=""),
                name="attachment_refusal_has_reason",
                violation_error_message="Un refus doit être motivé.",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "cancelled"])
                | Q(decided_by__isnull=False, decided_at__isnull=False),
                name="attachment_decision_has_approver",
            ),
        ]
        indexes = [
            # The « Approbations » badge and inbox: pending requests per structure.
            models.Index(
                fields=["structure", "created_at"],
                name="attachment_pending_idx",
                condition=Q(status="pending"),
            ),
        ]

    def __str__(self):
        return f"{self.requester} → {self.structure} ({self.get_status_display()})"

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING

    @property
    def requester_status_display(self) -> str:
        """The requester waits (« En attente ») where the manager has a request « À traiter »."""
        return "En attente" if self.is_pending else self.get_status_display()

    @property
    def description(self) -> str:
        """The « description » column of « Approbations » and « Historique de mes demandes »."""
        return f"Demande de rattachement de {self.requester.get_full_name()} à {self.structure.name}"
