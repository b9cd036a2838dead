"""Energy-product refund requests and their reference data (products, campaigns, rates).

Products, campaigns and rates are data, seeded by a migration and edited in the admin: nothing about a
year or a rate is a constant in the code.
"""

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateRangeField, RangeOperators
from django.core.exceptions import ValidationError
from django.db import connections, models
from django.db.models import F, Func, Q, Value

from structures.models import BankAccount, BeneficiaryCategory, Structure

CENT = Decimal("0.01")


def line_amount(quantity: Decimal, rate: Decimal) -> Decimal:
    """Refund of one invoice line: quantity × rate, rounded half-up to the cent (never float)."""
    return (Decimal(quantity) * Decimal(rate)).quantize(CENT, rounding=ROUND_HALF_UP)


class EnergyProduct(models.Model):
    """« Produit énergétique »: which products exist in a given year is decided by the rates."""

    class Unit(models.TextChoices):
        HECTOLITRE = "hl", "hectolitre"
        HUNDRED_KG = "100kg", "100 kg net"
        MWH = "MWh", "MWh"

    code = models.SlugField("code", max_length=40, unique=True)
    label = models.CharField("libellé", max_length=120)
    unit = models.CharField("unité", max_length=10, choices=Unit.choices)
    max_quantity = models.DecimalField(
        "quantité maximale par ligne",
        max_digits=12,
        decimal_places=3,
        help_text="Borne de saisie qui écarte les fautes de frappe (par exemple 100 000 hl).",
    )
    position = models.PositiveSmallIntegerField("ordre", default=0)

    class Meta:
        verbose_name = "produit énergétique"
        verbose_name_plural = "produits énergétiques"
        ordering = ["position", "label"]
        constraints = [
            models.CheckConstraint(
                condition=Q(max_quantity__gt=0),
                name="energy_product_max_quantity_positive",
                violation_error_message="La quantité maximale doit être positive.",
            ),
        ]

    def __str__(self):
        return self.label

    @property
    def unit_symbol(self) -> str:
        return {"hl": "hl", "100kg": "100 kg", "MWh": "MWh"}[self.unit]


class CampaignQuerySet(models.QuerySet):
    def open_on(self, day: date):
        """Campaigns accepting requests on `day`: between their dates and with at least one rate."""
        return self.filter(opens_on__lte=day, closes_on__gte=day, rates__isnull=False).distinct()


class Campaign(models.Model):
    """The filing campaign of one consumption year."""

    year = models.PositiveSmallIntegerField("année de consommation", unique=True)
    opens_on = models.DateField("ouverture du dépôt")
    closes_on = models.DateField(
        "clôture du dépôt",
        blank=True,
        help_text="Vide : le 31 décembre de la troisième année suivante, la règle générale.",
    )

    objects = CampaignQuerySet.as_manager()

    class Meta:
        verbose_name = "campagne"
        verbose_name_plural = "campagnes"
        ordering = ["-year"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_on__gte=models.F("opens_on")),
                name="campaign_closes_after_opening",
                violation_error_message="La clôture doit suivre l'ouverture.",
            ),
            models.CheckConstraint(
                condition=Q(year__gte=2000, year__lte=2100),
                name="campaign_year_sane",
                violation_error_message="L'année doit être comprise entre 2000 et 2100.",
            ),
        ]

    def __str__(self):
        return f"Campagne {self.year}"

    @staticmethod
    def default_closing(year: int) -> date:
        return date(year + 3, 12, 31)

    def clean(self):
        if self.closes_on is None and self.year:
            self.closes_on = self.default_closing(self.year)

    def is_open_on(self, day: date) -> bool:
        return self.opens_on <= day <= self.closes_on


def day_fr(day: date) -> str:
    return f"{day:%d/%m/%Y}"


def window_label(start: date, end: date) -> str:
    """« du 01/01/2024 au 30/06/2024 »: how every page and message names a delivery window."""
    return f"du {day_fr(start)} au {day_fr(end)}"


class DeliveryWindow(Func):
    """The closed range of delivery days a rate covers, as a PostgreSQL daterange."""

    function = "DATERANGE"
    output_field = DateRangeField()

    def __init__(self, start, end):
        super().__init__(start, end, Value("[]"))


class PostgresOnlyExclusionConstraint(ExclusionConstraint):
    """An exclusion constraint created on PostgreSQL only. SQLite (the embedded mode) has neither gist
    indexes nor range types: there the same rule is checked by a query when the model is validated (the
    admin's forms do), and by the rate services."""

    @staticmethod
    def _is_postgres(connection) -> bool:
        return connection.vendor == "postgresql"

    def constraint_sql(self, model, schema_editor):
        return (
            super().constraint_sql(model, schema_editor)
            if self._is_postgres(schema_editor.connection)
            else None
        )

    def create_sql(self, model, schema_editor):
        return (
            super().create_sql(model, schema_editor) if self._is_postgres(schema_editor.connection) else None
        )

    def remove_sql(self, model, schema_editor):
        return (
            super().remove_sql(model, schema_editor) if self._is_postgres(schema_editor.connection) else None
        )

    def validate(self, model, instance, exclude=None, using="default"):
        if self._is_postgres(connections[using]):
            return super().validate(model, instance, exclude=exclude, using=using)
        if exclude and {"campaign", "product", "deliveries_from", "deliveries_until"} & set(exclude):
            return None
        if overlapping_rates(
            campaign_id=instance.campaign_id,
            product_id=instance.product_id,
            start=instance.deliveries_from,
            end=instance.deliveries_until,
            exclude_pk=instance.pk,
        ).exists():
            raise ValidationError(self.get_violation_error_message(), code=self.violation_error_code)
        return None


def overlapping_rates(*, campaign_id, product_id, start: date, end: date, exclude_pk=None):
    """Rates of the same product and campaign whose delivery window shares a day with [start, end]."""
    return RefundRate.objects.filter(
        campaign_id=campaign_id, product_id=product_id, deliveries_from__lte=end, deliveries_until__gte=start
    ).exclude(pk=exclude_pk)


class RefundRate(models.Model):
    """« Taux de remboursement » of one product for one campaign and one delivery window, in euros per
    unit. A product may have several rates in a year (GNR 2024 before and after 1 July), never two for the
    same delivery day."""

    campaign = models.ForeignKey(
        Campaign, verbose_name="campagne", on_delete=models.CASCADE, related_name="rates"
    )
    product = models.ForeignKey(
        EnergyProduct, verbose_name="produit", on_delete=models.PROTECT, related_name="rates"
    )
    amount = models.DecimalField("taux (€ par unité)", max_digits=9, decimal_places=4)
    legal_reference = models.CharField("référence légale", max_length=250)
    deliveries_from = models.DateField(
        "livraisons à partir du", blank=True, help_text="Vide : depuis le 1er janvier de l'année."
    )
    deliveries_until = models.DateField(
        "livraisons jusqu'au", blank=True, help_text="Vide : jusqu'au 31 décembre de l'année."
    )
    closes_on = models.DateField(
        "clôture propre à ce produit",
        null=True,
        blank=True,
        help_text="Exception à la clôture de la campagne (par exemple le GNR 2022, clos le 31 décembre 2024).",
    )

    class Meta:
        verbose_name = "taux de remboursement"
        verbose_name_plural = "taux de remboursement"
        ordering = ["-campaign__year", "product__position", "deliveries_from"]
        constraints = [
            PostgresOnlyExclusionConstraint(
                name="refund_rate_windows_do_not_overlap",
                expressions=[
                    ("campaign", RangeOperators.EQUAL),
                    ("product", RangeOperators.EQUAL),
                    (DeliveryWindow(F("deliveries_from"), F("deliveries_until")), RangeOperators.OVERLAPS),
                ],
                violation_error_message=(
                    "Ce produit a déjà un taux pour une partie de ces dates de livraison dans cette campagne : "
                    "les périodes d'un même produit ne peuvent pas se chevaucher."
                ),
            ),
            models.CheckConstraint(
                condition=Q(deliveries_until__gte=F("deliveries_from")),
                name="refund_rate_window_ordered",
                violation_error_message="La fin de la période de livraison doit suivre son début.",
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="refund_rate_positive",
                violation_error_message="Le taux doit être positif.",
            ),
        ]

    def __str__(self):
        return (
            f"{self.product} {self.campaign.year} ({self.window_label}) : "
            f"{self.amount} €/{self.product.unit_symbol}"
        )

    def save(self, *args, **kwargs):
        # A rate created in code without a window covers the whole year, as the admin form would make it.
        if self.deliveries_from is None:
            self.deliveries_from = date(self.campaign.year, 1, 1)
        if self.deliveries_until is None:
            self.deliveries_until = date(self.campaign.year, 12, 31)
        super().save(*args, **kwargs)

    def clean(self):
        """Empty window ends mean the whole year; both ends must lie in the campaign's year."""
        try:
            campaign = self.campaign
        except Campaign.DoesNotExist:
            return
        if not campaign.year:
            return
        if self.deliveries_from is None:
            self.deliveries_from = date(campaign.year, 1, 1)
        if self.deliveries_until is None:
            self.deliveries_until = date(campaign.year, 12, 31)
        errors = {}
        for field in ("deliveries_from", "deliveries_until"):
            if getattr(self, field).year != campaign.year:
                errors[field] = (
                    f"Les livraisons d'un taux de la campagne {campaign.year} doivent être datées de "
                    f"{campaign.year}."
                )
        if not errors and self.deliveries_until < self.deliveries_from:
            errors["deliveries_until"] = "La fin de la période de livraison doit suivre son début."
        if errors:
            raise ValidationError(errors)

    @property
    def window_label(self) -> str:
        return window_label(self.deliveries_from, self.deliveries_until)

    def last_filing_day(self) -> date:
        return self.closes_on or self.campaign.closes_on

    def covers_delivery(self, day: date) -> bool:
        return self.deliveries_from <= day <= self.deliveries_until


class RefundRequest(models.Model):
    """« Demande de remboursement » of one structure for one consumption year."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Brouillon"
        FILED = "filed", "Déposée"
        IN_REVIEW = "in_review", "En cours d'instruction"
        TO_COMPLETE = "to_complete", "À compléter"
        PAID = "paid", "Mise en paiement"
        REJECTED = "rejected", "Rejetée"

    EDITABLE = frozenset({Status.DRAFT, Status.TO_COMPLETE})

    structure = models.ForeignKey(
        Structure, verbose_name="structure", on_delete=models.PROTECT, related_name="refund_requests"
    )
    campaign = models.ForeignKey(
        Campaign, verbose_name="année de la demande", on_delete=models.PROTECT, related_name="requests"
    )
    bank_account = models.ForeignKey(
        BankAccount,
        verbose_name="références bancaires",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="refund_requests",
    )
    beneficiary_category = models.ForeignKey(
        BeneficiaryCategory,
        verbose_name="catégorie de bénéficiaire",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    pacage = models.CharField("numéro PACAGE", max_length=9, blank=True)
    not_in_difficulty = models.BooleanField(
        "déclaration sur l'honneur (entreprise non en difficulté)", default=False
    )
    status = models.CharField("état", max_length=12, choices=Status.choices, default=Status.DRAFT)
    number = models.CharField("numéro", max_length=20, null=True, blank=True, unique=True)
    total_amount = models.DecimalField(
        "montant demandé", max_digits=14, decimal_places=2, default=Decimal("0")
    )
    paid_amount = models.DecimalField("montant payé", max_digits=14, decimal_places=2, null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="saisie par", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("créée le", auto_now_add=True)
    updated_at = models.DateTimeField("modifiée le", auto_now=True)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="déposée par",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    filed_at = models.DateTimeField("déposée le", null=True, blank=True)
    nothing_to_declare = models.BooleanField(
        "aucune livraison à déclarer",
        default=False,
        help_text="Demande de régularisation d'une avance, sans ligne.",
    )
    advance_deducted = models.DecimalField(
        "avance déduite",
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Avance perçue au titre de l'année de la demande, relevée au dépôt.",
    )
    balance = models.DecimalField(
        "solde",
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Montant demandé moins l'avance perçue ; négatif : montant à reverser.",
    )

    class Meta:
        verbose_name = "demande de remboursement"
        verbose_name_plural = "demandes de remboursement"
        ordering = ["-campaign__year", "-created_at", "-pk"]
        permissions = [("instruct_refundrequest", "Peut instruire les demandes de remboursement")]
        constraints = [
            models.UniqueConstraint(
                fields=["structure", "campaign"],
                name="refund_request_one_per_structure_year",
                violation_error_message="Une demande existe déjà pour cette structure et cette année.",
            ),
            models.CheckConstraint(
                condition=Q(status="draft")
                | Q(number__isnull=False, filed_at__isnull=False, filed_by__isnull=False),
                name="refund_request_filed_has_number",
                violation_error_message="Une demande déposée a un numéro, une date de dépôt et un déposant.",
            ),
            models.CheckConstraint(
                condition=~Q(status="paid") | Q(paid_amount__isnull=False),
                name="refund_request_paid_has_amount",
                violation_error_message="Une demande mise en paiement indique le montant payé.",
            ),
            models.CheckConstraint(
                condition=Q(total_amount__gte=0) & (Q(paid_amount__isnull=True) | Q(paid_amount__gte=0)),
                name="refund_request_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(advance_deducted__isnull=True, balance__isnull=True)
                | Q(advance_deducted__gt=0, balance=F("total_amount") - F("advance_deducted")),
                name="refund_request_balance_is_total_minus_advance",
                violation_error_message="Le solde est le montant demandé moins l'avance perçue.",
            ),
            models.CheckConstraint(
                condition=Q(nothing_to_declare=False) | Q(total_amount=0),
                name="refund_request_empty_declaration_has_no_amount",
                violation_error_message="Une demande sans livraison ne demande aucun montant.",
            ),
        ]
        indexes = [models.Index(fields=["structure", "status"], name="refund_request_struct_status")]

    def __str__(self):
        return self.number or f"Brouillon {self.campaign.year} · {self.structure.name}"

    @property
    def is_editable(self) -> bool:
        return self.status in self.EDITABLE

    @property
    def year(self) -> int:
        return self.campaign.year

    @property
    def amount_to_repay(self) -> Decimal | None:
        """« Montant à reverser »: what the structure owes back when the advance exceeds the refund."""
        if self.balance is not None and self.balance < 0:
            return -self.balance
        return None


class RefundLine(models.Model):
    """« Ligne de demande »: one invoice for one product."""

    request = models.ForeignKey(RefundRequest, on_delete=models.CASCADE, related_name="lines")
    invoice_number = models.CharField("numéro de facture", max_length=50)
    delivery_date = models.DateField("date de livraison")
    product = models.ForeignKey(
        EnergyProduct, verbose_name="produit", on_delete=models.PROTECT, related_name="lines"
    )
    quantity = models.DecimalField("quantité", max_digits=12, decimal_places=3)
    rate = models.DecimalField("taux (€ par unité)", max_digits=9, decimal_places=4)
    amount = models.DecimalField("montant", max_digits=14, decimal_places=2)
    invoice_copy = models.FileField("copie de la facture", upload_to="invoices/", max_length=200, blank=True)
    invoice_original_name = models.CharField("nom du fichier déposé", max_length=255, blank=True)
    created_at = models.DateTimeField("ajoutée le", auto_now_add=True)

    class Meta:
        verbose_name = "ligne de demande"
        verbose_name_plural = "lignes de demande"
        ordering = ["delivery_date", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0),
                name="refund_line_quantity_positive",
                violation_error_message="La quantité doit être positive.",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="refund_line_amount_not_negative"),
        ]

    def __str__(self):
        return f"{self.invoice_number} · {self.product}"


class RefundEvent(models.Model):
    """An entry of the « fil d'évènements »: a status change, with who, when and why."""

    request = models.ForeignKey(RefundRequest, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField("état précédent", max_length=12, choices=RefundRequest.Status.choices)
    to_status = models.CharField("nouvel état", max_length=12, choices=RefundRequest.Status.choices)
    label = models.CharField("évènement", max_length=120)
    comment = models.TextField("commentaire", blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="par", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("date", auto_now_add=True)

    class Meta:
        verbose_name = "évènement"
        verbose_name_plural = "fil d'évènements"
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.label} ({self.created_at:%d/%m/%Y})"


def advance_amount(refund: Decimal, rate_percent: Decimal) -> Decimal:
    """An advance: rate × the refund, rounded half-up to the cent."""
    return (Decimal(refund) * Decimal(rate_percent) / 100).quantize(CENT, rounding=ROUND_HALF_UP)


class AdvanceOffer(models.Model):
    """An advance offered with the requests of one campaign, on account of the refund of a following year
    (2023 requests → advance for 2024 deliveries, décret 2024-76). Data, edited in the admin."""

    campaign = models.OneToOneField(
        Campaign,
        verbose_name="campagne de la demande",
        on_delete=models.CASCADE,
        related_name="advance_offer",
    )
    for_year = models.PositiveSmallIntegerField(
        "au titre des livraisons de", help_text="L'année dont le remboursement absorbera l'avance."
    )
    rate = models.DecimalField(
        "taux de l'avance (%)",
        max_digits=5,
        decimal_places=2,
        help_text="Pourcentage du remboursement de la demande (50 pour l'avance 2024).",
    )
    label = models.CharField("nom", max_length=40, default="avance", help_text="« avance » ou « acompte ».")
    legal_reference = models.CharField("référence légale", max_length=250)
    commitment = models.TextField(
        "texte de l'engagement", help_text="Montré au déposant avant qu'il choisisse de demander l'avance."
    )
    repayment_deadline = models.DateField(
        "date limite de régularisation",
        help_text="Règle du texte : la demande de l'année de l'avance est à déposer avant cette date ; "
        "à défaut l'avance est à reverser.",
    )
    repayment_deadline_applied = models.DateField(
        "date de reversement appliquée",
        null=True,
        blank=True,
        help_text="Date plus proche fixée en pratique pour reverser un trop-perçu (par exemple la déclaration "
        "de TVA de décembre 2025), si elle existe.",
    )
    repayment_instructions = models.TextField(
        "comment reverser", help_text="Montré avec un montant à reverser."
    )

    class Meta:
        verbose_name = "offre d'avance"
        verbose_name_plural = "offres d'avance"
        ordering = ["-for_year"]
        constraints = [
            models.CheckConstraint(
                condition=Q(rate__gt=0, rate__lte=100),
                name="advance_offer_rate_percent",
                violation_error_message="Le taux de l'avance doit être compris entre 0 et 100 %%.",
            ),
            models.UniqueConstraint(
                fields=["for_year"],
                name="advance_offer_one_per_year",
                violation_error_message="Une avance est déjà offerte au titre de cette année.",
            ),
        ]

    def __str__(self):
        return f"{self.label.capitalize()} {self.rate.normalize():f} % au titre de {self.for_year}"

    def clean(self):
        campaign = getattr(self, "campaign", None) if self.campaign_id else None
        if campaign and self.for_year is not None and self.for_year <= campaign.year:
            raise ValidationError(
                {"for_year": f"L'avance porte sur une année suivant celle de la campagne ({campaign.year})."}
            )

    def last_repayment_day(self) -> date:
        return self.repayment_deadline_applied or self.repayment_deadline


class Advance(models.Model):
    """An advance asked for with a filed request, then paid (« Avance versée ») by an instructor."""

    request = models.OneToOneField(
        RefundRequest, verbose_name="demande", on_delete=models.CASCADE, related_name="advance"
    )
    offer = models.ForeignKey(
        AdvanceOffer, verbose_name="offre", on_delete=models.PROTECT, related_name="advances"
    )
    structure = models.ForeignKey(
        Structure, verbose_name="structure", on_delete=models.PROTECT, related_name="advances"
    )
    for_year = models.PositiveSmallIntegerField("au titre de")
    requested_amount = models.DecimalField("montant demandé", max_digits=14, decimal_places=2)
    paid_amount = models.DecimalField("montant versé", max_digits=14, decimal_places=2, null=True, blank=True)
    paid_on = models.DateField("versée le", null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="enregistrée par",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField("demandée le", auto_now_add=True)

    class Meta:
        verbose_name = "avance"
        verbose_name_plural = "avances"
        ordering = ["-for_year", "pk"]
        constraints = [
            # The structure and year are copied from the request so that this holds in the database: one
            # advance per structure and year, whatever happens to requests.
            models.UniqueConstraint(
                fields=["structure", "for_year"],
                name="advance_one_per_structure_year",
                violation_error_message="Cette structure a déjà une avance au titre de cette année.",
            ),
            models.CheckConstraint(
                condition=Q(requested_amount__gte=0), name="advance_requested_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(paid_amount__isnull=True, paid_on__isnull=True, recorded_by__isnull=True)
                | Q(paid_amount__gt=0, paid_on__isnull=False, recorded_by__isnull=False),
                name="advance_paid_has_amount_date_and_agent",
                violation_error_message="Une avance versée a un montant, une date et l'agent qui l'a saisie.",
            ),
        ]

    def __str__(self):
        return f"Avance au titre de {self.for_year} · {self.structure}"

    @property
    def is_paid(self) -> bool:
        return self.paid_amount is not None


class FilingCounter(models.Model):
    """Last number given to a filed request of one year. Its row is locked while a request is filed, so
    numbers are gapless (a rolled-back filing gives its number back) and distinct under concurrency."""

    year = models.PositiveSmallIntegerField(unique=True)
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "compteur de numéros"
        verbose_name_plural = "compteurs de numéros"

    def __str__(self):
        return f"{self.year} : {self.last_number}"


# Bulk jobs live in their own module; importing them here registers them with the app.
from reimbursements.import_models import ImportJob  # noqa: E402, F401
