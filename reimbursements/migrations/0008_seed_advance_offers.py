from datetime import date
from decimal import Decimal

from django.contrib.auth.management import create_permissions
from django.db import migrations

# shared/domain.md, « Advances (acomptes, avances) and their regularisation ».
OFFERS = [
    {
        "campaign_year": 2023,
        "for_year": 2024,
        "rate": Decimal("50"),
        "label": "avance",
        "legal_reference": (
            "Décret n° 2024-76 du 2 février 2024 ; code des impositions sur les biens et services, "
            "art. L.312-104-1 et L.312-104-2"
        ),
        # Chorus Pro's wording, which it showed pre-ticked; here it is shown before an explicit choice.
        "commitment": (
            "Je demande le versement de l'avance au titre des livraisons 2024. Je m'engage à demander le "
            "remboursement des livraisons 2024 au plus tard le 31 décembre 2027."
        ),
        # The decree: by 31 December of the third year after purchase. As applied (farm press, FNSEA): the
        # 2024 request filed in 2025 and an excess repaid through the VAT return of December 2025.
        "repayment_deadline": date(2027, 12, 31),
        "repayment_deadline_applied": date(2025, 12, 31),
        "repayment_instructions": (
            "Reversez le trop-perçu avec votre déclaration de TVA de décembre 2025 ; si votre exploitation "
            "ne dépose pas de déclaration de TVA, avec le formulaire annexe prévu à cet effet. Un remboursement "
            "supérieur à l'avance vous est versé comme d'habitude."
        ),
    },
    {
        "campaign_year": 2021,
        "for_year": 2022,
        "rate": Decimal("25"),
        "label": "acompte",
        "legal_reference": "Décret n° 2022-745 (plan de résilience)",
        "commitment": (
            "Je demande le versement d'un acompte de 25 % du remboursement de mes livraisons 2021, au titre "
            "des livraisons 2022. Je m'engage à demander le remboursement des livraisons 2022 : l'acompte en "
            "sera déduit, et reversé s'il le dépasse ou si je ne dépose pas de demande 2022."
        ),
        "repayment_deadline": date(2025, 12, 31),
        "repayment_deadline_applied": None,
        "repayment_instructions": (
            "Le service instructeur (la DDFiP du siège de votre structure) vous indique comment reverser le "
            "trop-perçu."
        ),
    },
]


def seed(apps, schema_editor):
    Campaign = apps.get_model("reimbursements", "Campaign")
    AdvanceOffer = apps.get_model("reimbursements", "AdvanceOffer")
    for offer in OFFERS:
        values = dict(offer)
        campaign = Campaign.objects.filter(year=values.pop("campaign_year")).first()
        if campaign is not None:
            AdvanceOffer.objects.update_or_create(campaign=campaign, defaults=values)


def instructors_see_advances(apps, schema_editor):
    """Instructors read advances on the requests they instruct (recording one is `instruct_refundrequest`)."""
    app_config = apps.get_app_config("reimbursements")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name="Instructeurs").first()
    if group is not None:
        group.permissions.add(
            *Permission.objects.filter(
                content_type__app_label="reimbursements", codename__in=["view_advance", "view_advanceoffer"]
            )
        )


class Migration(migrations.Migration):
    dependencies = [("reimbursements", "0007_advances"), ("reimbursements", "0003_instructors_group")]

    operations = [
        migrations.RunPython(seed, migrations.RunPython.noop),
        migrations.RunPython(instructors_see_advances, migrations.RunPython.noop),
    ]
