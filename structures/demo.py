"""Demo structures: a farm (GAEC) with its manager and bank details, an accounting firm with its accountant."""

from django.core.files.base import ContentFile
from pypdf import PdfWriter

from accounts.demo import demo_user
from structures.models import (
    BankAccount,
    BeneficiaryCategory,
    Membership,
    Service,
    Structure,
    StructureChange,
)

FARM_SIRET = "73282932000074"
FIRM_SIRET = "35600000000048"  # a La Poste-style SIRET: valid by the digit sum rule


def _blank_pdf() -> bytes:
    import io

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def seed() -> list[str]:
    farmer = demo_user("farmer")
    accountant = demo_user("accountant")
    farm, _ = Structure.objects.get_or_create(
        siret=FARM_SIRET,
        defaults={
            "name": "GAEC des Trois Chênes",
            "street": "12 route de la Vallée",
            "postcode": "35500",
            "city": "Vitré",
            "beneficiary_category": BeneficiaryCategory.objects.get(code="societe-agricole"),
            "pacage": "035123456",
            "created_by": farmer,
        },
    )
    Membership.objects.get_or_create(
        user=farmer, structure=farm, is_active=True, defaults={"role": Membership.Role.MAIN_MANAGER}
    )
    if not farm.bank_accounts.exists():
        account = BankAccount(
            structure=farm,
            label="Compte courant",
            holder="GAEC des Trois Chênes",
            iban="FR7630006000011234567890189",
            bic="AGRIFRPP",
            rib_original_name="RIB GAEC des Trois Chênes.pdf",
            created_by=farmer,
        )
        account.rib_document.save("demo-rib-gaec.pdf", ContentFile(_blank_pdf()), save=False)
        account.save()
    firm, _ = Structure.objects.get_or_create(
        siret=FIRM_SIRET,
        defaults={
            "name": "Cabinet Comptable du Bocage",
            "street": "3 place de la Mairie",
            "postcode": "35000",
            "city": "Rennes",
            "is_management_centre": True,
            "created_by": accountant,
        },
    )
    Membership.objects.get_or_create(
        user=accountant, structure=firm, is_active=True, defaults={"role": Membership.Role.MAIN_MANAGER}
    )
    Service.objects.get_or_create(structure=firm, code="AGRI", defaults={"name": "Pôle agricole"})
    if not farm.changes.exists():
        StructureChange.objects.bulk_create(
            [
                StructureChange(
                    structure=farm,
                    changed_by=farmer,
                    field="catégorie de bénéficiaire",
                    new_value=str(farm.beneficiary_category or ""),
                ),
                StructureChange(
                    structure=farm, changed_by=farmer, field="numéro PACAGE", new_value=farm.pacage
                ),
            ]
        )
    return [
        f"Structure agricole : {farm.name}, SIRET {farm.siret} (gestionnaire principal : {farmer.email})",
        f"Cabinet comptable : {firm.name}, SIRET {firm.siret} (gestionnaire principal : {accountant.email})",
    ]
