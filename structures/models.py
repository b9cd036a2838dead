from django.conf import settings
from django.db import models
from django.db.models import Q

from structures.validators import validate_bic, validate_iban, validate_pacage, validate_siret


class BeneficiaryCategory(models.Model):
    """« Catégorie de bénéficiaire »: kept as data (seeded by a migration, editable in the admin)."""

    code = models.SlugField("code", max_length=40, unique=True)
    label = models.CharField("libellé", max_length=200)
    position = models.PositiveSmallIntegerField("ordre", default=0)
    is_active = models.BooleanField("proposée", default=True)

    class Meta:
        verbose_name = "catégorie de bénéficiaire"
        verbose_name_plural = "catégories de bénéficiaire"
        ordering = ["position", "label"]

    def __str__(self):
        return self.label


class StructureQuerySet(models.QuerySet):
    def for_user(self, user):
        """Structures the user is attached to (active membership)."""
        return self.filter(memberships__user=user, memberships__is_active=True)

    def managed_by(self, user):
        """Structures the user manages (main manager or manager)."""
        return self.filter(
            memberships__user=user,
            memberships__is_active=True,
            memberships__role__in=[Membership.Role.MAIN_MANAGER, Membership.Role.MANAGER],
        )

    def main_managed_by(self, user):
        """Structures whose main manager (« gestionnaire principal ») is the user."""
        return self.filter(
            memberships__user=user,
            memberships__is_active=True,
            memberships__role=Membership.Role.MAIN_MANAGER,
        )


class Structure(models.Model):
    """A legal entity identified by its SIRET."""

    siret = models.CharField("SIRET", max_length=14, unique=True, validators=[validate_siret])
    name = models.CharField("raison sociale", max_length=200)
    street = models.CharField("adresse", max_length=250)
    postcode = models.CharField("code postal", max_length=10)
    city = models.CharField("commune", max_length=120)
    country = models.CharField("pays", max_length=80, default="France")
    is_management_centre = models.BooleanField(
        "L'organisation est un centre de gestion agricole", default=False
    )
    beneficiary_category = models.ForeignKey(
        BeneficiaryCategory,
        verbose_name="catégorie de bénéficiaire",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="structures",
    )
    pacage = models.CharField("numéro PACAGE", max_length=9, blank=True, validators=[validate_pacage])
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="créée par", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("créée le", auto_now_add=True)
    updated_at = models.DateTimeField("modifiée le", auto_now=True)

    objects = StructureQuerySet.as_manager()

    class Meta:
        verbose_name = "structure"
        verbose_name_plural = "structures"
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(siret__regex=r"^[0-9]{14}$"),
                name="structure_siret_14_digits",
                violation_error_message="Le numéro SIRET comporte 14 chiffres.",
            ),
            models.CheckConstraint(
                condition=Q(pacage="") | Q(pacage__regex=r"^[0-9]{9}$"),
                name="structure_pacage_9_digits",
                violation_error_message="Le numéro PACAGE comporte 9 chiffres.",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.siret})"


class Service(models.Model):
    """An optional sub-unit of a structure that an attachment request may target."""

    structure = models.ForeignKey(Structure, on_delete=models.CASCADE, related_name="services")
    name = models.CharField("nom", max_length=150)
    code = models.CharField("code", max_length=30)
    is_active = models.BooleanField("actif", default=True)

    class Meta:
        verbose_name = "service"
        verbose_name_plural = "services"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["structure", "code"],
                name="service_code_unique_per_structure",
                violation_error_message="Ce code de service existe déjà pour cette structure.",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.code})"


class Membership(models.Model):
    """The « rattachement » of a user to a structure. Detached members are deactivated, never deleted."""

    class Role(models.TextChoices):
        MAIN_MANAGER = "main_manager", "Gestionnaire principal"
        MANAGER = "manager", "Gestionnaire"
        MEMBER = "member", "Utilisateur"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="memberships")
    structure = models.ForeignKey(Structure, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField("rôle", max_length=20, choices=Role.choices, default=Role.MEMBER)
    is_active = models.BooleanField("actif", default=True)
    created_at = models.DateTimeField("rattaché le", auto_now_add=True)
    updated_at = models.DateTimeField("modifié le", auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="modifié par",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = "rattachement"
        verbose_name_plural = "rattachements"
        ordering = ["structure__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "structure"],
                condition=Q(is_active=True),
                name="membership_one_active_per_user_structure",
                violation_error_message="Ce compte est déjà rattaché à cette structure.",
            ),
            models.UniqueConstraint(
                fields=["structure"],
                condition=Q(is_active=True, role="main_manager"),
                name="membership_one_main_manager_per_structure",
                violation_error_message="Une structure n'a qu'un gestionnaire principal.",
            ),
            models.CheckConstraint(
                condition=Q(role__in=["main_manager", "manager", "member"]),
                name="membership_role_valid",
                violation_error_message="Rôle inconnu.",
            ),
        ]
        indexes = [models.Index(fields=["user", "is_active"], name="membership_user_active_idx")]

    def __str__(self):
        return f"{self.user} → {self.structure} ({self.get_role_display()})"

    @property
    def is_manager(self):
        return self.role in {self.Role.MAIN_MANAGER, self.Role.MANAGER}


class StructureChange(models.Model):
    """History of « Modifier une structure »: who changed which field, when, old → new."""

    structure = models.ForeignKey(Structure, on_delete=models.CASCADE, related_name="changes")
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField("modifiée le", auto_now_add=True)
    field = models.CharField("champ", max_length=100)
    old_value = models.TextField("ancienne valeur", blank=True)
    new_value = models.TextField("nouvelle valeur", blank=True)

    class Meta:
        verbose_name = "modification de structure"
        verbose_name_plural = "modifications de structure"
        ordering = ["-changed_at", "-pk"]

    def __str__(self):
        return f"{self.structure} · {self.field}"


class BankAccountQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(structure__memberships__user=user, structure__memberships__is_active=True)


class BankAccount(models.Model):
    """« Coordonnée bancaire » of a structure, with the copy of its RIB/IBAN (private file)."""

    structure = models.ForeignKey(Structure, on_delete=models.PROTECT, related_name="bank_accounts")
    label = models.CharField("libellé", max_length=100)
    holder = models.CharField("titulaire du compte", max_length=200)
    iban = models.CharField("IBAN", max_length=34, validators=[validate_iban])
    bic = models.CharField("BIC", max_length=11, validators=[validate_bic])
    rib_document = models.FileField("copie du RIB", upload_to="rib/", max_length=200)
    rib_original_name = models.CharField("nom du fichier déposé", max_length=255)
    is_active = models.BooleanField("active", default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("créée le", auto_now_add=True)
    updated_at = models.DateTimeField("modifiée le", auto_now=True)

    objects = BankAccountQuerySet.as_manager()

    class Meta:
        verbose_name = "coordonnée bancaire"
        verbose_name_plural = "coordonnées bancaires"
        ordering = ["structure__name", "label"]
        constraints = [
            # Stored compact and upper case (the forms normalise what users type).
            models.CheckConstraint(
                condition=Q(iban__regex=r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$"),
                name="bank_account_iban_compact",
                violation_error_message="L'IBAN est enregistré sans espaces, en majuscules.",
            ),
            models.CheckConstraint(
                condition=Q(bic__regex=r"^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$"),
                name="bank_account_bic_format",
                violation_error_message="Le BIC comporte 8 ou 11 caractères.",
            ),
        ]

    def __str__(self):
        return f"{self.label} · {self.masked_iban}"

    @property
    def masked_iban(self):
        """Shown in lists: only the last 4 characters."""
        return "•••• " + self.iban[-4:] if self.iban else ""
