import io

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from structures.demo import FARM_SIRET
from structures.models import StructureChange
from tests.conftest import verify_session
from tests.factories import BankAccountFactory, MembershipFactory, StructureFactory, UserFactory, valid_siret

pytestmark = pytest.mark.django_db


def test_admin_searches_structures_by_siret_and_name(admin_client):
    farm = StructureFactory(name="GAEC des Saules")
    StructureFactory(name="EARL des Hêtres")
    url = reverse("admin:structures_structure_changelist")
    by_siret = admin_client.get(url, {"q": farm.siret})
    assert "GAEC des Saules" in by_siret.text and "EARL des Hêtres" not in by_siret.text
    by_name = admin_client.get(url, {"q": "Hêtres"})
    assert "EARL des Hêtres" in by_name.text and "GAEC des Saules" not in by_name.text


def test_admin_filters_structures_by_category_and_management_centre(admin_client):
    StructureFactory(name="Cabinet Alpha", management_centre=True)
    StructureFactory(name="Ferme Beta")
    url = reverse("admin:structures_structure_changelist")
    response = admin_client.get(url, {"is_management_centre__exact": "1"})
    assert "Cabinet Alpha" in response.text and "Ferme Beta" not in response.text
    assert "beneficiary_category__id__exact" in admin_client.get(url).text


def test_admin_structure_page_shows_memberships_bank_details_and_history(admin_client):
    membership = MembershipFactory(main_manager=True)
    account = BankAccountFactory(structure=membership.structure, rib_original_name="RIB-ferme.pdf")
    StructureChange.objects.create(
        structure=membership.structure,
        changed_by=membership.user,
        field="numéro PACAGE",
        new_value="035000002",
    )
    response = admin_client.get(reverse("admin:structures_structure_change", args=[membership.structure.pk]))
    assert response.status_code == 200
    assert membership.user.email in response.text
    assert "035000002" in response.text
    assert reverse("structures:bank_account_rib", args=[account.pk]) in response.text
    assert "RIB-ferme.pdf" in response.text


def test_admin_rib_link_goes_through_the_checked_view(admin_client):
    account = BankAccountFactory()
    page = admin_client.get(reverse("admin:structures_bankaccount_change", args=[account.pk]))
    assert reverse("structures:bank_account_rib", args=[account.pk]) in page.text
    response = admin_client.get(reverse("structures:bank_account_rib", args=[account.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    response.close()


def test_staff_without_the_bank_permission_cannot_download_a_rib(client):
    account = BankAccountFactory()
    client.force_login(UserFactory(staff=True))
    assert client.get(reverse("structures:bank_account_rib", args=[account.pk])).status_code == 404


def test_staff_without_the_emailed_code_cannot_download_a_rib(client):
    """The RIB copy is personal data: staff read it only once their session has passed the second factor,
    as the admin itself and ticket attachments require; a password alone is not enough."""
    account = BankAccountFactory()
    staff = UserFactory(staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_bankaccount"))
    client.force_login(staff)  # password only
    assert client.get(reverse("structures:bank_account_rib", args=[account.pk])).status_code == 404
    verify_session(client, staff)
    response = client.get(reverse("structures:bank_account_rib", args=[account.pk]))
    assert response.status_code == 200
    response.close()


def test_admin_changelists_answer(admin_client):
    MembershipFactory()
    for name in ["structure", "bankaccount", "membership", "structurechange", "beneficiarycategory"]:
        assert admin_client.get(reverse(f"admin:structures_{name}_changelist")).status_code == 200


def test_demo_seeds_a_farm_with_bank_details_and_an_accounting_firm():
    from django.core.management import call_command
    from stdnum.fr import siret

    from structures.models import Structure
    from structures.validators import validate_pacage

    call_command("seed_demo", stdout=io.StringIO())
    farm = Structure.objects.get(siret=FARM_SIRET)
    assert siret.is_valid(farm.siret)
    validate_pacage(farm.pacage)
    assert farm.bank_accounts.filter(is_active=True).count() == 1
    assert farm.memberships.get(is_active=True).role == "main_manager"
    firm = Structure.objects.get(is_management_centre=True)
    assert siret.is_valid(firm.siret)
    assert firm.services.exists()


def test_admin_adds_a_structure_typed_with_spaces_and_records_who(admin_client, admin_user):
    from structures.models import Structure

    response = admin_client.post(
        reverse("admin:structures_structure_add"),
        {
            "siret": "732 829.320 00074",
            "name": "GAEC Saisi",
            "street": "1 rue",
            "postcode": "35000",
            "city": "Rennes",
            "country": "France",
            "pacage": "",
            **{
                f"{prefix}-{key}": value
                for prefix in ["memberships", "services", "bank_accounts", "changes"]
                for key, value in [("TOTAL_FORMS", "0"), ("INITIAL_FORMS", "0")]
            },
        },
    )
    assert response.status_code == 302, response.text
    structure = Structure.objects.get(name="GAEC Saisi")
    assert (structure.siret, structure.created_by) == ("73282932000074", admin_user)


def test_admin_refuses_a_second_main_manager_with_a_message(admin_client):
    main = MembershipFactory(main_manager=True)
    other = MembershipFactory(structure=main.structure)
    response = admin_client.post(
        reverse("admin:structures_membership_change", args=[other.pk]),
        {"user": other.user.pk, "structure": main.structure.pk, "role": "main_manager", "is_active": "on"},
    )
    assert response.status_code == 200
    assert "Une structure n&#x27;a qu&#x27;un gestionnaire principal." in response.text
    other.refresh_from_db()
    assert other.role == "member"


def test_admin_changes_a_structure_but_not_its_siret(admin_client):
    structure = StructureFactory(name="Ancien nom")
    siret = structure.siret
    response = admin_client.post(
        reverse("admin:structures_structure_change", args=[structure.pk]),
        {
            "siret": valid_siret(999),
            "name": "Nouveau nom",
            "street": structure.street,
            "postcode": structure.postcode,
            "city": structure.city,
            "country": "France",
            "pacage": "035123456",
            **{
                f"{prefix}-{key}": value
                for prefix in ["memberships", "services", "bank_accounts", "changes"]
                for key, value in [("TOTAL_FORMS", "0"), ("INITIAL_FORMS", "0")]
            },
        },
    )
    assert response.status_code == 302
    structure.refresh_from_db()
    assert (structure.name, structure.siret, structure.pacage) == ("Nouveau nom", siret, "035123456")
