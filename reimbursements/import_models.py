"""The bulk jobs of users with many clients: an import of lines (check, then import, then filing) or a
filing of every complete draft from « Mes clients ». The job row carries the progress, so a reloaded page
(or another tab) shows where the Celery task is."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class ImportJob(models.Model):
    class Kind(models.TextChoices):
        IMPORT = "import", "Import de lignes"
        FILING = "filing", "Dépôt des demandes complètes"

    class Status(models.TextChoices):
        CHECKING = "checking", "Vérification en cours"
        CHECKED = "checked", "Vérifié"
        IMPORTING = "importing", "Import en cours"
        IMPORTED = "imported", "Importé"
        FILING = "filing", "Dépôt en cours"
        FILED = "filed", "Dépôt terminé"
        FAILED = "failed", "Échec"

    RUNNING = frozenset({Status.CHECKING, Status.IMPORTING, Status.FILING})

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="utilisateur", on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField("type", max_length=10, choices=Kind.choices, default=Kind.IMPORT)
    status = models.CharField("état", max_length=12, choices=Status.choices, default=Status.CHECKING)
    lines_file = models.FileField("fichier des lignes", upload_to="imports/", max_length=200, blank=True)
    lines_original_name = models.CharField("nom du fichier des lignes", max_length=255, blank=True)
    archive = models.FileField("archive des factures", upload_to="imports/", max_length=200, blank=True)
    archive_original_name = models.CharField("nom de l'archive", max_length=255, blank=True)
    not_in_difficulty = models.BooleanField(
        "déclaration sur l'honneur pour les nouvelles demandes", default=False
    )
    total = models.PositiveIntegerField("éléments à traiter", default=0)
    done = models.PositiveIntegerField("éléments traités", default=0)
    # The check's verdict on every row (number, SIRET, year, invoice, product, outcome, message), then the
    # import's and the filing's outcome per structure or request: the page and the report read them.
    rows = models.JSONField("lignes", default=list, blank=True)
    results = models.JSONField("résultats", default=list, blank=True)
    request_ids = models.JSONField("demandes concernées", default=list, blank=True)
    error = models.TextField("erreur", blank=True)
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    updated_at = models.DateTimeField("modifié le", auto_now=True)

    class Meta:
        verbose_name = "import de lignes"
        verbose_name_plural = "imports de lignes"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(done__lte=models.F("total")), name="import_job_done_le_total"),
        ]
        indexes = [models.Index(fields=["user", "-created_at"], name="import_job_user_created")]

    def __str__(self):
        return f"{self.get_kind_display()} n° {self.pk} ({self.get_status_display()})"

    @property
    def is_running(self) -> bool:
        return self.status in self.RUNNING

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, self.done * 100 // self.total)

    @property
    def error_rows(self) -> list[dict]:
        return [row for row in self.rows if row["outcome"] == "error"]

    def count(self, outcome: str) -> int:
        return sum(1 for row in self.rows if row["outcome"] == outcome)
