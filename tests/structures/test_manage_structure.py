import pytest
from django.urls import reverse

from structures.models import BeneficiaryCategory, Structure, StructureChange
from tests.factories import MembershipFactory, StructureFactory

pytestmark = pytest.mark.django_db

MANAGE = reverse("structures:manage")


@pytest.fixture
def manager(client):
    membership = MembershipFactory(main_manager=True)
    client.force_login(membership.user)
    return membership


def update_url(structure):
    return reverse("structures:update", args=[structure.pk])


def test_identifiant_lists_only_structures_the_user_manages(client, manager):
    member_only = MembershipFactory(user=manager.user).structure
    other = StructureFactory()
    response = client.get(MANAGE)
    assert "Type de demande" in response.text
    assert "Modifier une structure" in response.text
    assert 'role="combobox"' in response.text and "<option" not in response.text.split("Identifiant")[1]
    assert "Informations demandes de remboursement" not in response.text
    suggestions = client.get(
        reverse("structures:search"),
        {"scope": "managed", "field": "q", "q": "", "list": "l"},
        headers={"HX-Request": "true"},
    ).text
    assert manager.structure.siret in suggestions
    assert member_only.siret not in suggestions
    assert other.siret not in suggestions


def test_choosing_modify_and_a_structure_shows_the_refund_information_block(client, manager):
    response = client.get(
        MANAGE, {"type_demande": "modifier", "identifiant": manager.structure.siret}, follow=True
    )
    assert response.redirect_chain[-1][0] == update_url(manager.structure)
    text = response.text
    assert "Informations demandes de remboursement" in text
    assert "Catégorie de bénéficiaire" in text
    assert "Numéro PACAGE" in text
    assert "L&#x27;organisation est un centre de gestion agricole" in text


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"type_demande": "", "identifiant": ""}, "Choisissez le type de demande."),
        ({"type_demande": "supprimer"}, "Choisissez le type de demande dans la liste."),
        ({"type_demande": "modifier", "identifiant": "abc"}, "Aucune de vos structures ne correspond"),
        ({"type_demande": "modifier", "identifiant": ""}, "Choisissez la structure à modifier."),
    ],
)
def test_manage_selection_errors_are_shown_next_to_the_field(client, manager, params, message):
    response = client.get(MANAGE, params)
    assert response.status_code == 200
    assert message in response.text


def test_choosing_someone_elses_structure_is_refused_without_leaking_it(client, manager):
    other = StructureFactory(name="Secret SCEA")
    response = client.get(MANAGE, {"type_demande": "modifier", "identifiant": other.siret})
    assert "Aucune de vos structures ne correspond" in response.text
    assert "Secret SCEA" not in response.text


def test_manager_saves_category_pacage_and_management_centre_and_each_change_is_recorded(client, manager):
    category = BeneficiaryCategory.objects.get(code="cuma")
    response = client.post(
        update_url(manager.structure),
        {"beneficiary_category": category.pk, "pacage": "035123456", "is_management_centre": "on"},
        follow=True,
    )
    assert "Les informations de la structure sont enregistrées." in response.text
    structure = Structure.objects.get(pk=manager.structure.pk)
    assert (structure.beneficiary_category, structure.pacage, structure.is_management_centre) == (
        category,
        "035123456",
        True,
    )
    changes = {c.field: (c.old_value, c.new_value, c.changed_by) for c in StructureChange.objects.all()}
    assert changes == {
        "catégorie de bénéficiaire": ("", category.label, manager.user),
        "numéro PACAGE": ("", "035123456", manager.user),
        "L'organisation est un centre de gestion agricole": ("non", "oui", manager.user),
    }
    assert "Historique des modifications" in response.text
    assert "035123456" in response.text


def test_saving_unchanged_values_records_nothing(client, manager):
    client.post(update_url(manager.structure), {"beneficiary_category": "", "pacage": ""})
    assert not StructureChange.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"pacage": "12345"}, "Le numéro PACAGE comporte 9 chiffres."),
        ({"pacage": "1234567890"}, "Le numéro PACAGE comporte 9 chiffres."),
        ({"pacage": "<i>x</i>"}, "Le numéro PACAGE comporte 9 chiffres."),
        ({"pacage": "099123456"}, "doivent être ceux du département"),
        ({"pacage": "０３５１２３４５６"}, "Le numéro PACAGE comporte 9 chiffres."),  # full-width digits
        ({"pacage": "٠٣٥١٢٣٤٥٦"}, "Le numéro PACAGE comporte 9 chiffres."),  # Arabic-Indic digits
        ({"beneficiary_category": "999999"}, "Choisissez une catégorie de la liste."),
        ({"beneficiary_category": "abc"}, "Choisissez une catégorie de la liste."),
    ],
)
def test_invalid_refund_information_is_refused_next_to_the_field(client, manager, data, message):
    response = client.post(update_url(manager.structure), {"is_management_centre": "on", **data})
    assert response.status_code == 200
    assert message in response.text
    assert 'aria-invalid="true"' in response.text
    assert "<i>x</i>" not in response.text
    assert "checked" in response.text  # the other input is kept
    structure = Structure.objects.get(pk=manager.structure.pk)
    assert structure.pacage == "" and not structure.is_management_centre
    assert not StructureChange.objects.exists()


def test_history_is_visible_to_another_manager(client, manager):
    StructureChange.objects.create(
        structure=manager.structure, changed_by=manager.user, field="numéro PACAGE", new_value="035000001"
    )
    other_manager = MembershipFactory(structure=manager.structure, manager=True)
    client.force_login(other_manager.user)
    response = client.get(update_url(manager.structure))
    assert "035000001" in response.text
    assert manager.user.get_full_name() in response.text


@pytest.mark.parametrize("method", ["get", "post"])
def test_plain_member_gets_404_on_modify(client, method):
    membership = MembershipFactory()
    client.force_login(membership.user)
    response = getattr(client, method)(update_url(membership.structure), {"pacage": "035123456"})
    assert response.status_code == 404
    assert Structure.objects.get(pk=membership.structure.pk).pacage == ""


def test_user_without_managed_structure_is_told_so(client):
    client.force_login(MembershipFactory().user)
    response = client.get(MANAGE)
    assert "Vous n'êtes gestionnaire d'aucune structure" in response.text


def test_organisation_page_lists_memberships_in_few_queries(client, django_assert_max_num_queries):
    manager = MembershipFactory(manager=True)
    for _ in range(30):
        MembershipFactory(user=manager.user)
    client.force_login(manager.user)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("structures:index"))
    assert response.text.count("<tr>") == 32
