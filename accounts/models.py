import hashlib

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


class LowercaseEmailField(models.EmailField):
    """The login address compares regardless of case: stored and looked up in lower case."""

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return value.strip().lower() if isinstance(value, str) else value

    def to_python(self, value):
        value = super().to_python(value)
        return value.strip().lower() if isinstance(value, str) else value


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create(self, email, password, **extra):
        if not email:
            raise ValueError("Une adresse électronique est obligatoire.")
        user = self.model(email=email.strip().lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    email = LowercaseEmailField("adresse électronique de connexion", max_length=254, unique=True)
    last_name = models.CharField("nom", max_length=150)
    first_name = models.CharField("prénom", max_length=150)
    phone = models.CharField("téléphone", max_length=32, blank=True)
    mobile = models.CharField("mobile", max_length=32, blank=True)
    contact_email = models.EmailField("adresse électronique de contact", max_length=254, blank=True)
    is_active = models.BooleanField("actif", default=True)
    is_staff = models.BooleanField("accès à l'administration", default=False)
    date_joined = models.DateTimeField("date de création", default=timezone.now)
    # Set when the user first chose a password through the activation link. A never-activated account has
    # is_active=False and no usable password; a deactivated one has is_active=False and activated_at set.
    activated_at = models.DateTimeField("activé le", null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["last_name", "first_name"]

    class Meta:
        verbose_name = "utilisateur"
        verbose_name_plural = "utilisateurs"
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="user_email_ci_unique",
                violation_error_message="Un compte existe déjà avec cette adresse électronique.",
            ),
        ]

    def __str__(self):
        return f"{self.get_full_name()} <{self.email}>"

    def get_full_name(self):
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self):
        return self.first_name

    @property
    def contact_address(self):
        return self.contact_email or self.email


class AccountLinkQuerySet(models.QuerySet):
    def by_key(self, key: str):
        return self.filter(key_hash=AccountLink.hash_key(key))


class AccountLink(models.Model):
    """A single-use link sent by mail (activation, password reset, change of login address).

    Only a hash of the key is stored. A link is malformed (no row), used (used_at), or expired (older than
    ACCOUNT_LINK_VALIDITY): each case has its own page.
    """

    class Purpose(models.TextChoices):
        ACTIVATION = "activation", "Activation du compte"
        PASSWORD_RESET = "password_reset", "Réinitialisation du mot de passe"
        EMAIL_CHANGE = "email_change", "Changement d'adresse de connexion"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="account_links")
    purpose = models.CharField("objet", max_length=20, choices=Purpose.choices)
    key_hash = models.CharField(max_length=64, unique=True)
    new_email = models.EmailField("nouvelle adresse", blank=True)
    created_at = models.DateTimeField("envoyé le", default=timezone.now)
    used_at = models.DateTimeField("utilisé le", null=True, blank=True)

    objects = AccountLinkQuerySet.as_manager()

    class Meta:
        verbose_name = "lien envoyé par courriel"
        verbose_name_plural = "liens envoyés par courriel"
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(purpose="email_change") | ~models.Q(new_email=""),
                name="account_link_email_change_has_address",
            ),
        ]

    def __str__(self):
        return f"{self.get_purpose_display()} · {self.user.email}"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @property
    def expires_at(self):
        return self.created_at + settings.ACCOUNT_LINK_VALIDITY

    def is_expired(self, now=None) -> bool:
        return (now or timezone.now()) > self.expires_at


class SecondFactorFailure(models.Model):
    """One wrong second-factor answer (e-mailed code, authenticator app, backup code…). Every factor counts
    toward one cap per account (accounts.services.second_factor_verify), so a new code, or another factor,
    never brings fresh guesses."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="second_factor_failures")
    factor = models.CharField("facteur", max_length=30)
    created_at = models.DateTimeField("le", default=timezone.now)

    class Meta:
        verbose_name = "code erroné"
        verbose_name_plural = "codes erronés"
        indexes = [models.Index(fields=["user", "created_at"], name="second_factor_failure_user_at")]

    def __str__(self):
        return f"{self.factor} · {self.created_at:%Y-%m-%d %H:%M}"


class PasswordResetDemand(models.Model):
    """A « Mot de passe oublié ? » request, waiting for its task. The request only stores the typed address, so
    it does the same work whether or not an account has it; the task looks the account up, mails the link and
    deletes the row (the address is not kept)."""

    email = models.CharField("adresse saisie", max_length=254)
    created_at = models.DateTimeField("demandé le", default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "demande de nouveau mot de passe"
        verbose_name_plural = "demandes de nouveau mot de passe"

    def __str__(self):
        return f"{self.email} · {self.created_at:%Y-%m-%d %H:%M}"


class ApiTokenQuerySet(models.QuerySet):
    def usable(self, now=None):
        return self.filter(revoked_at__isnull=True, expires_at__gt=now or timezone.now())


class ApiToken(models.Model):
    """A personal API token (« Accès API »). It acts as its user on the API, within its scope; only a hash of
    the secret is stored, and the secret is shown once, when the token is created."""

    class Scope(models.TextChoices):
        READ = "read", "Lecture"
        WRITE = "write", "Lecture et écriture"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField("nom", max_length=80)
    scope = models.CharField("droits", max_length=5, choices=Scope.choices)
    # The start of the secret, shown in lists so that the user recognises a token in their software.
    prefix = models.CharField("début du jeton", max_length=16)
    secret_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField("créé le", default=timezone.now)
    expires_at = models.DateTimeField("expire le")
    last_used_at = models.DateTimeField("dernière utilisation", null=True, blank=True)
    revoked_at = models.DateTimeField("révoqué le", null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = "jeton d'accès API"
        verbose_name_plural = "jetons d'accès API"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("created_at")),
                name="api_token_expires_after_creation",
                violation_error_message="La date d'expiration doit suivre la création.",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash_secret(secret: str) -> str:
        # The secret has 256 bits of entropy: a plain SHA-256 cannot be reversed by brute force.
        return hashlib.sha256(secret.encode()).hexdigest()

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()

    @property
    def can_write(self) -> bool:
        return self.scope == self.Scope.WRITE
