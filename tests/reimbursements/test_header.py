import pytest
from django.urls import reverse

from reimbursements.models import Campaign, RefundRequest
from structures.models import BeneficiaryCategory, StructureChange
from tests.factories import BankAccountFactory, MembershipFactory, StructureFactory
from tests.reimbursements.factories import RefundRequestFactory, text

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("spring_2025")]

CREATE = reverse("reimbursements:create")


def header_data(farm, account, year, **overrides):
    return {
        "structure": farm.siret,
        "campaign": year.pk,
        "bank_account": account.pk,
        "beneficiary_category": farm.beneficiary_category_id,
        "pacage": farm.pacage,
        "not_in_difficulty": "on",
        **overrides,
    }


def test_header_is_prefilled_from_the_only_structure_of_the_user(client, farm, farmer, bank_account):
    client.force_login(farmer)
    response = client.get(CREATE)
    form = response.context["form"]
    assert form.initial["structure"] == farm
    assert form.initial["bank_account"] == bank_account.pk
    assert form.initial["beneficiary_category"] == farm.beneficiary_category_id
    assert form.initial["pacage"] == "035987654"
    assert 'value="035987654"' in response.content.decode()


def test_prefill_button_takes_the_chosen_structure_when_the_user_has_several(
    client, farm, farmer, bank_account
):
    other = MembershipFactory(user=farmer, structure=StructureFactory(pacage="022111222")).structure
    client.force_login(farmer)
    assert client.get(CREATE).context["form"].initial.get("structure") is None
    form = client.post(CREATE, {"structure": other.siret, "campaign": "7", "prefill": ""}).context["form"]
    assert not RefundRequest.objects.exists()
    assert form.initial["structure"] == other
    assert form.initial["pacage"] == "022111222"
    assert form.initial["bank_account"] is None
    assert (
        client.get(CREATE, {"structure": other.pk}).context["form"].initial["pacage"] == "022111222"
    )  # htmx


def test_only_attached_non_management_centre_structures_and_open_years_are_offered(client, farm, farmer):
    MembershipFactory(user=farmer, structure=StructureFactory(management_centre=True))
    MembershipFactory(user=farmer, structure=StructureFactory(), detached=True)
    StructureFactory()
    client.force_login(farmer)
    form = client.get(CREATE).context["form"]
    assert list(form.fields["structure"].queryset) == [farm]
    assert [c.year for c in form.fields["campaign"].queryset] == [2023, 2022]


def test_enregistrer_saves_a_draft_and_redirects_to_it(client, farm, farmer, bank_account, campaign_2023):
    client.force_login(farmer)
    response = client.post(CREATE, header_data(farm, bank_account, campaign_2023), follow=True)
    refund_request = RefundRequest.objects.get()
    assert response.redirect_chain[-1][0] == reverse(
        "reimbursements:detail", kwargs={"pk": refund_request.pk}
    )
    assert refund_request.status == RefundRequest.Status.DRAFT
    assert refund_request.number is None
    assert (refund_request.bank_account, refund_request.pacage, refund_request.not_in_difficulty) == (
        bank_account,
        "035987654",
        True,
    )
    assert "enregistrée en brouillon" in text(response)


def test_another_member_of_the_structure_resumes_the_draft(client, farm, bank_account):
    draft = RefundRequestFactory(structure=farm, bank_account=bank_account)
    colleague = MembershipFactory(structure=farm).user
    client.force_login(colleague)
    response = client.post(
        reverse("reimbursements:header", kwargs={"pk": draft.pk}),
        {"bank_account": bank_account.pk, "beneficiary_category": farm.beneficiary_category_id, "pacage": ""},
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.pacage, draft.not_in_difficulty) == ("", False)


def test_second_request_for_the_same_structure_and_year_is_refused_with_a_link_to_the_first(
    client, farm, farmer, bank_account, campaign_2023
):
    first = RefundRequestFactory(structure=farm, bank_account=bank_account)
    client.force_login(farmer)
    response = client.post(CREATE, header_data(farm, bank_account, campaign_2023))
    assert response.status_code == 200
    assert RefundRequest.objects.count() == 1
    page = text(response)
    assert "Une demande de remboursement existe déjà pour cette structure et l'année 2023" in page
    assert f'href="{reverse("reimbursements:detail", kwargs={"pk": first.pk})}"' in response.content.decode()


def test_database_refuses_two_requests_for_one_structure_and_year(farm, bank_account):
    from django.db import IntegrityError, transaction

    first = RefundRequestFactory(structure=farm, bank_account=bank_account)
    with pytest.raises(IntegrityError), transaction.atomic():
        RefundRequest.objects.create(structure=farm, campaign=first.campaign, created_by=first.created_by)


def test_closed_year_and_year_without_rate_are_refused(client, farm, farmer, bank_account):
    client.force_login(farmer)
    for year in (2021, 2024):
        response = client.post(CREATE, header_data(farm, bank_account, Campaign.objects.get(year=year)))
        assert "Sélectionnez un choix valide" in text(response)
    assert not RefundRequest.objects.exists()


def test_bank_details_of_another_structure_are_refused(client, farm, farmer, bank_account, campaign_2023):
    other = MembershipFactory(user=farmer, structure=StructureFactory()).structure
    foreign_account = BankAccountFactory(structure=other)
    client.force_login(farmer)
    response = client.post(CREATE, header_data(farm, foreign_account, campaign_2023))
    # Only the chosen structure's accounts are offered: another one is not a valid choice.
    assert "Sélectionnez un choix valide" in " ".join(response.context["form"].errors["bank_account"])
    assert list(response.context["form"].fields["bank_account"].queryset) == [bank_account]
    assert not RefundRequest.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"structure": ""}, "structure", "Choisissez la structure du bénéficiaire."),
        ({"structure": "Ferme inconnue"}, "structure", "Aucune de vos structures ne correspond"),
        ({"campaign": "abc"}, "campaign", "Sélectionnez un choix valide"),
        ({"bank_account": ""}, "bank_account", "Ce champ est obligatoire."),
        ({"beneficiary_category": ""}, "beneficiary_category", "Ce champ est obligatoire."),
        ({"pacage": "0351234567"}, "pacage", "au plus 9 caractères"),
        ({"pacage": "12345"}, "pacage", "Le numéro PACAGE comporte 9 chiffres."),
        ({"pacage": "<script>alert(1)</script>"}, "pacage", "au plus 9 caractères"),
        ({"pacage": "099123456"}, "pacage", "département"),
    ],
)
def test_invalid_header_shows_the_error_beside_the_field_and_keeps_the_input(
    client, farm, farmer, bank_account, campaign_2023, overrides, field, message
):
    client.force_login(farmer)
    response = client.post(CREATE, header_data(farm, bank_account, campaign_2023, **overrides))
    assert response.status_code == 200
    form = response.context["form"]
    assert message in " ".join(form.errors[field])
    assert f'id="id_{field}_error"' in response.content.decode()
    assert "<script>alert(1)</script>" not in response.content.decode()
    assert not RefundRequest.objects.exists()


def test_manager_saves_changed_category_and_pacage_back_to_the_structure(
    client, farm, farmer, bank_account, campaign_2023
):
    cuma = BeneficiaryCategory.objects.get(code="cuma")
    client.force_login(farmer)
    client.post(
        CREATE,
        header_data(
            farm,
            bank_account,
            campaign_2023,
            beneficiary_category=cuma.pk,
            pacage="035000001",
            save_to_structure="on",
        ),
    )
    farm.refresh_from_db()
    assert (farm.beneficiary_category, farm.pacage) == (cuma, "035000001")
    assert set(StructureChange.objects.filter(structure=farm).values_list("field", "new_value")) == {
        ("catégorie de bénéficiaire", str(cuma)),
        ("numéro PACAGE", "035000001"),
    }


def test_plain_member_cannot_save_back_to_the_structure(client, farm, bank_account, campaign_2023):
    member = MembershipFactory(structure=farm).user
    client.force_login(member)
    response = client.post(
        CREATE, header_data(farm, bank_account, campaign_2023, pacage="035000001", save_to_structure="on")
    )
    assert "Seul un gestionnaire de la structure" in text(response)
    farm.refresh_from_db()
    assert farm.pacage == "035987654"
    assert not RefundRequest.objects.exists()


def test_user_without_structure_is_told_to_attach_first(client):
    from tests.factories import UserFactory

    client.force_login(UserFactory())
    response = client.get(CREATE)
    assert "votre compte doit être rattaché à la structure du bénéficiaire" in text(response)


@pytest.mark.parametrize("save", ["on", ""])
@pytest.mark.parametrize("pacage", ["０３５１２３４５６", "٠٣٥١٢٣٤٥٦"])
def test_non_ascii_digits_in_pacage_are_refused_next_to_the_field(
    client, farm, farmer, bank_account, campaign_2023, save, pacage
):
    client.force_login(farmer)
    response = client.post(
        CREATE, header_data(farm, bank_account, campaign_2023, pacage=pacage, save_to_structure=save)
    )
    assert response.status_code == 200
    assert "Le numéro PACAGE comporte 9 chiffres." in text(response)
    farm.refresh_from_db()
    assert farm.pacage == "035987654"
    assert not RefundRequest.objects.exists()


def test_in_place_refresh_keeps_every_value_the_user_chose(client, farm, farmer, bank_account, campaign_2023):
    """Friction 13, server side: the refresh posts the whole form; the year, the declaration and a bank
    account of the chosen structure are kept, the structure's saved category and PACAGE fill their fields."""
    second = BankAccountFactory(structure=farm, label="Compte épargne")
    other = MembershipFactory(user=farmer, structure=StructureFactory(pacage="022111222")).structure
    foreign = BankAccountFactory(structure=other)
    client.force_login(farmer)
    data = {
        "structure": f"{farm.siret} — {farm.name}",
        "campaign": campaign_2023.pk,
        "bank_account": second.pk,
        "not_in_difficulty": "on",
        "prefill": "1",
    }
    form = client.post(CREATE, data, headers={"HX-Request": "true"}).context["form"]
    assert (form.initial["campaign"], form.initial["bank_account"], form.initial["not_in_difficulty"]) == (
        campaign_2023.pk,
        second.pk,
        True,
    )
    assert form.initial["pacage"] == "035987654"
    form = client.post(CREATE, {**data, "bank_account": foreign.pk}).context["form"]
    assert form.initial["bank_account"] in {bank_account.pk, second.pk}
    assert not RefundRequest.objects.exists()
