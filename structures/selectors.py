"""Reads across relations for the structures pages (and for the other apps: filing prerequisites)."""

import re

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from accounts.models import User
from structures.models import BankAccount, Membership, Structure, StructureChange


def user_has_structure(*, user: User) -> bool:
    return Membership.objects.filter(user=user, is_active=True).exists()


def memberships_of_user(*, user: User, query: str = "") -> QuerySet[Membership]:
    """The user's active attachments with their structure, for « Organisation »; `query` keeps those whose
    SIRET starts with it or whose name contains it."""
    memberships = Membership.objects.filter(user=user, is_active=True)
    if query:
        digits = re.sub(r"[ .]", "", query)
        if re.fullmatch(r"[0-9]+", digits):
            memberships = memberships.filter(structure__siret__startswith=digits)
        else:
            memberships = memberships.filter(structure__name__icontains=query)
    return (
        memberships.select_related("structure")
        .annotate(
            active_bank_accounts=Count(
                "structure__bank_accounts", filter=Q(structure__bank_accounts__is_active=True)
            )
        )
        .order_by("structure__name")
    )


def structures_managed(*, user: User) -> QuerySet[Structure]:
    return Structure.objects.managed_by(user).order_by("name")


def structure_changes(*, structure: Structure) -> QuerySet[StructureChange]:
    return structure.changes.select_related("changed_by").order_by("-changed_at", "-pk")


def structure_members(*, structure: Structure) -> QuerySet[Membership]:
    """Active members, main manager first."""
    return (
        structure.memberships.filter(is_active=True)
        .select_related("user")
        # The role codes sort as the hierarchy: main_manager < manager < member.
        .order_by("role", "user__last_name", "user__first_name")
    )


def bank_accounts_for_user(*, user: User) -> QuerySet[BankAccount]:
    """Bank details of every structure the user is attached to, with whether the user manages it."""
    manages = Membership.objects.filter(
        structure=OuterRef("structure"),
        user=user,
        is_active=True,
        role__in=[Membership.Role.MAIN_MANAGER, Membership.Role.MANAGER],
    )
    return (
        BankAccount.objects.for_user(user)
        .select_related("structure")
        .annotate(can_manage=Exists(manages))
        .order_by("structure__name", "-is_active", "label")
    )


def bank_accounts_readable_by(*, user: User, verified: bool) -> QuerySet[BankAccount]:
    """Bank details whose RIB copy the user may download: those of their structures, or all of them for
    staff allowed to view bank details in the admin, once their session has passed the second factor (as the
    admin requires)."""
    if verified and user.is_staff and user.has_perm("structures.view_bankaccount"):
        return BankAccount.objects.all()
    return BankAccount.objects.for_user(user)


def active_bank_accounts(*, structure: Structure) -> QuerySet[BankAccount]:
    """What a refund request may select as « Références bancaires »."""
    return structure.bank_accounts.filter(is_active=True).order_by("label")


def structure_filing_blocker(*, structure: Structure) -> str | None:
    """Why a refund request cannot be filed yet for this structure, or None. Bank details are required
    for a structure that is not a management centre."""
    if structure.is_management_centre:
        return None
    if not structure.bank_accounts.filter(is_active=True).exists():
        return (
            "Enregistrez d'abord les coordonnées bancaires de la structure et une copie de son RIB/IBAN "
            "(Organisation › Structures › « Créer une coordonnée bancaire »)."
        )
    return None
