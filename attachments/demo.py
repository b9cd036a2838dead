"""Demo attachment request: the accounting firm's user asks to be attached to the demo farm, so the farm's
manager finds one pending approval (the « Approbations » badge) on first sign-in."""

from accounts.demo import demo_user
from attachments.models import AttachmentRequest
from structures.demo import FARM_SIRET
from structures.models import Membership, Structure


def seed() -> list[str]:
    accountant = demo_user("accountant")
    farm = Structure.objects.get(siret=FARM_SIRET)
    already_handled = (
        AttachmentRequest.objects.filter(requester=accountant, structure=farm).exists()
        or Membership.objects.filter(user=accountant, structure=farm, is_active=True).exists()
    )
    if not already_handled:
        # Straight to the table: the demo needs no mail to the farm's manager.
        AttachmentRequest.objects.create(
            requester=accountant,
            structure=farm,
            comment="Cabinet Comptable du Bocage : nous déposerons vos demandes de remboursement 2025.",
        )
    return [f"Demande de rattachement en attente : {accountant.email} → {farm.name} (« Approbations »)"]
