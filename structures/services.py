"""Every write on structures, memberships and bank details. Each function runs in one transaction, locks
the rows it decides on and raises `StructureError` (a French message the view shows) when a rule says no."""

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction

from accounts.models import User
from chorus.outbox.services import mail_queue
from chorus.storage import PendingFiles, StorageUnavailable
from structures.models import (
    BankAccount,
    BeneficiaryCategory,
    Membership,
    Service,
    Structure,
    StructureChange,
)
from structures.validators import normalize_bic, normalize_iban, normalize_siret


class StructureError(Exception):
    """A business rule refused the change; `message` is shown to the user as is."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class StructureAlreadyExists(StructureError):
    def __init__(self):
        super().__init__(
            "Une structure existe déjà avec ce numéro SIRET. Demandez à y être rattaché : son gestionnaire "
            "approuvera votre demande."
        )


def structure_create(
    *,
    siret: str,
    name: str,
    street: str,
    postcode: str,
    city: str,
    country: str,
    created_by: User,
) -> Structure:
    """Create a structure; its creator becomes its main manager, attached at once.

    Two users submitting the same SIRET at the same moment both insert; PostgreSQL's unique index makes the
    second wait for the first and then fail, which we turn into « already exists »: never a duplicate."""
    siret = normalize_siret(siret)
    try:
        with transaction.atomic(durable=True):
            structure = Structure.objects.create(
                siret=siret,
                name=name,
                street=street,
                postcode=postcode,
                city=city,
                country=country,
                created_by=created_by,
            )
            Membership.objects.create(
                user=created_by,
                structure=structure,
                role=Membership.Role.MAIN_MANAGER,
                updated_by=created_by,
            )
    except IntegrityError as exc:
        if Structure.objects.filter(siret=siret).exists():
            raise StructureAlreadyExists from exc
        raise
    return structure


def _display(value) -> str:
    if isinstance(value, bool):
        return "oui" if value else "non"
    return "" if value is None else str(value)


def structure_update_refund_information(
    *,
    structure_id: int,
    by: User,
    beneficiary_category: BeneficiaryCategory | None,
    pacage: str,
    is_management_centre: bool,
) -> list[StructureChange]:
    """« Modifier une structure »: save the refund information block, recording each change (who, when,
    old → new). Only the structure's managers may do it."""
    with transaction.atomic(durable=True):
        structure = (
            Structure.objects.managed_by(by)
            .select_for_update(of=("self",))
            .select_related("beneficiary_category")
            .filter(pk=structure_id)
            .first()
        )
        if structure is None:
            raise StructureError("Seuls les gestionnaires de la structure peuvent la modifier.")
        new_values = {
            "beneficiary_category": beneficiary_category,
            "pacage": pacage,
            "is_management_centre": is_management_centre,
        }
        changes = []
        for field, new in new_values.items():
            old = getattr(structure, field)
            if old == new:
                continue
            changes.append(
                StructureChange(
                    structure=structure,
                    changed_by=by,
                    field=str(Structure._meta.get_field(field).verbose_name),
                    old_value=_display(old),
                    new_value=_display(new),
                )
            )
            setattr(structure, field, new)
        if changes:
            structure.save(update_fields=[*new_values, "updated_at"])
            StructureChange.objects.bulk_create(changes)
    return changes


def bank_account_create(
    *,
    structure_id: int,
    by: User,
    label: str,
    holder: str,
    iban: str,
    bic: str,
    rib_document: UploadedFile,
) -> BankAccount:
    """« Créer une coordonnée bancaire » with the copy of the RIB (already checked by content). The copy is
    stored before the row is written and deleted again if the change does not commit (PendingFiles)."""
    try:
        with PendingFiles() as files, transaction.atomic(durable=True):
            structure = (
                Structure.objects.managed_by(by)
                .select_for_update(of=("self",))
                .filter(pk=structure_id)
                .first()
            )
            if structure is None:
                raise StructureError(
                    "Seuls les gestionnaires de la structure peuvent enregistrer ses coordonnées bancaires."
                )
            account = BankAccount(
                structure=structure,
                label=label,
                holder=holder,
                iban=normalize_iban(iban),
                bic=normalize_bic(bic),
                rib_original_name=getattr(rib_document, "original_name", rib_document.name)[:255],
                created_by=by,
            )
            if structure.bank_accounts.filter(is_active=True, iban=account.iban).exists():
                raise StructureError("Cet IBAN est déjà enregistré pour cette structure.")
            files.store(account.rib_document, rib_document)
            account.save()
    except StorageUnavailable as exc:
        raise StructureError(exc.message) from exc
    return account


def bank_account_deactivate(*, bank_account_id: int, by: User) -> BankAccount:
    """Deactivate, never delete: a refund request may point to it. It is no longer offered for new ones."""
    with transaction.atomic(durable=True):
        account = (
            BankAccount.objects.filter(
                structure__in=Structure.objects.managed_by(by), pk=bank_account_id, is_active=True
            )
            .select_for_update(of=("self",))
            .first()
        )
        if account is None:
            raise StructureError("Cette coordonnée bancaire n'est pas active ou vous ne la gérez pas.")
        account.is_active = False
        account.save(update_fields=["is_active", "updated_at"])
    return account


def _main_manager_membership(*, structure_id: int, by: User) -> Membership:
    membership = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("structure")
        .filter(structure_id=structure_id, user=by, is_active=True, role=Membership.Role.MAIN_MANAGER)
        .first()
    )
    if membership is None:
        raise StructureError("Seul le gestionnaire principal de la structure peut faire cette opération.")
    return membership


def membership_transfer_main_manager(*, structure_id: int, by: User, to_membership_id: int) -> Membership:
    """Hand the « gestionnaire principal » role to another active member; the former one becomes
    « gestionnaire ». The new main manager is told by mail."""
    with transaction.atomic(durable=True):
        current = _main_manager_membership(structure_id=structure_id, by=by)
        target = (
            Membership.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(structure_id=structure_id, pk=to_membership_id, is_active=True)
            .exclude(pk=current.pk)
            .first()
        )
        if target is None:
            raise StructureError("Ce membre n'est plus rattaché à la structure.")
        # Demote first: the database allows one active main manager per structure at any moment.
        current.role = Membership.Role.MANAGER
        current.updated_by = by
        current.save(update_fields=["role", "updated_by", "updated_at"])
        target.role = Membership.Role.MAIN_MANAGER
        target.updated_by = by
        target.save(update_fields=["role", "updated_by", "updated_at"])
        mail_queue(
            to=[target.user.contact_address],
            template="structures/emails/main_manager_given",
            context={"member": target.user, "structure": current.structure, "by": by},
        )
    return target


def membership_detach(*, structure_id: int, by: User, membership_id: int) -> Membership:
    """Detach a member who left: the membership is deactivated (history kept) and the person told by mail.
    The main manager cannot detach themselves: they hand the role over first."""
    with transaction.atomic(durable=True):
        current = _main_manager_membership(structure_id=structure_id, by=by)
        target = (
            Membership.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(structure_id=structure_id, pk=membership_id, is_active=True)
            .first()
        )
        if target is None:
            raise StructureError("Ce membre n'est plus rattaché à la structure.")
        if target.pk == current.pk:
            raise StructureError(
                "Vous êtes le gestionnaire principal : confiez d'abord ce rôle à un autre membre avant de "
                "vous détacher de la structure."
            )
        target.is_active = False
        target.updated_by = by
        target.save(update_fields=["is_active", "updated_by", "updated_at"])
        mail_queue(
            to=[target.user.contact_address],
            template="structures/emails/member_detached",
            context={"member": target.user, "structure": current.structure, "by": by},
        )
    return target


def service_create(*, structure_id: int, by: User, name: str, code: str) -> Service:
    """Add a service (sub-unit) to a structure; attachment requests may then target it."""
    with transaction.atomic(durable=True):
        structure = (
            Structure.objects.managed_by(by).select_for_update(of=("self",)).filter(pk=structure_id).first()
        )
        if structure is None:
            raise StructureError("Seuls les gestionnaires de la structure peuvent lui ajouter un service.")
        if structure.services.filter(code=code).exists():
            raise StructureError("Ce code de service existe déjà pour cette structure.")
        return Service.objects.create(structure=structure, name=name, code=code)


def service_set_active(*, service_id: int, by: User, is_active: bool) -> Service:
    """Withdraw a service from new attachment requests (or offer it again); it is never deleted."""
    with transaction.atomic(durable=True):
        service = (
            Service.objects.filter(structure__in=Structure.objects.managed_by(by), pk=service_id)
            .select_for_update(of=("self",))
            .first()
        )
        if service is None:
            raise StructureError("Ce service n'existe pas ou vous ne gérez pas sa structure.")
        service.is_active = is_active
        service.save(update_fields=["is_active"])
    return service
