import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from structures.models import BankAccount
from structures.selectors import structure_filing_blocker
from tests.documents import EXECUTABLE, pdf_bytes, upload, valid_jpeg, valid_pdf, valid_png
from tests.factories import BankAccountFactory, MembershipFactory, StructureFactory

pytestmark = pytest.mark.django_db

CREATE = reverse("structures:bank_account_create")
LIST = reverse("structures:bank_account_list")


@pytest.fixture
def manager(client):
    membership = MembershipFactory(main_manager=True)
    client.force_login(membership.user)
    return membership


def form_data(target, rib, **overrides):
    return {
        "structure": target.siret,
        "label": "Compte courant",
        "holder": target.name,
        "iban": "FR76 3000 6000 0112 3456 7890 189",
        "bic": "agrifrpp",
        "rib_document": rib,
        **overrides,
    }


def stored_files(settings):
    """What the private storage holds under rib/ (the test's own folder, or its own prefix in the bucket)."""
    try:
        return sorted(default_storage.listdir("rib")[1])
    except FileNotFoundError:
        return []


@pytest.mark.parametrize(("rib", "extension"), [(valid_pdf, "pdf"), (valid_png, "png"), (valid_jpeg, "jpg")])
def test_manager_creates_bank_details_with_a_pdf_png_or_jpeg(client, manager, settings, rib, extension):
    response = client.post(CREATE, form_data(manager.structure, rib()), follow=True)
    assert "La coordonnée bancaire est enregistrée." in response.text
    account = BankAccount.objects.get()
    assert account.iban == "FR7630006000011234567890189"
    assert account.bic == "AGRIFRPP"
    assert account.created_by == manager.user
    assert account.rib_original_name == rib().name
    stored = account.rib_document.name
    assert stored.startswith("rib/") and stored.endswith(f".{extension}")
    assert rib().name not in stored  # stored under a random name
    assert not str(settings.MEDIA_ROOT).startswith(str(settings.STATIC_ROOT))


@pytest.mark.parametrize(
    ("rib", "message"),
    [
        (lambda: upload("rib.pdf", EXECUTABLE), "n&#x27;est ni un PDF, ni une image PNG ou JPEG"),
        (lambda: upload("rib.pdf", pdf_bytes()[:200]), "endommagé ou incomplet"),
        (lambda: upload("rib.pdf", b""), "Le fichier est vide."),
        (
            lambda: upload("rib.pdf", b"%PDF-1.4\n" + b"0" * (6 * 1024 * 1024)),
            "dépasse la taille maximale de 5 Mo",
        ),
    ],
)
def test_bad_rib_copy_is_refused_with_a_clear_message_and_nothing_stored(
    client, manager, settings, rib, message
):
    response = client.post(CREATE, form_data(manager.structure, rib()))
    assert response.status_code == 200
    assert message in response.text
    assert 'value="Compte courant"' in response.text  # other input kept
    assert not BankAccount.objects.exists()
    assert stored_files(settings) == []


def test_missing_rib_copy_is_asked_for(client, manager):
    data = form_data(manager.structure, None)
    del data["rib_document"]
    response = client.post(CREATE, data)
    assert "Joignez le document." in response.text
    assert not BankAccount.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"iban": "FR7630006000011234567890188"}, "Cet IBAN n&#x27;est pas valide"),
        ({"iban": "BR1800360305000010009795493C1"}, "zone SEPA"),
        ({"iban": ""}, "Indiquez l&#x27;IBAN."),
        ({"iban": "F" * 60}, "Cet IBAN n&#x27;est pas valide"),
        ({"bic": "AGRI"}, "Ce BIC n&#x27;est pas valide"),
        ({"bic": ""}, "Indiquez le BIC."),
        ({"label": ""}, "Indiquez un libellé."),
        ({"label": "x" * 101}, "100 caractères au plus."),
        ({"holder": "<script>alert(1)</script>", "bic": "<b>"}, "Ce BIC n&#x27;est pas valide"),
        ({"structure": ""}, "Choisissez la structure."),
        ({"structure": "abc"}, "Aucune de vos structures ne correspond à « abc »"),
    ],
)
def test_invalid_bank_details_are_refused_next_to_the_field(client, manager, settings, overrides, message):
    response = client.post(CREATE, form_data(manager.structure, valid_pdf(), **overrides))
    assert response.status_code == 200
    assert message in response.text
    assert 'aria-invalid="true"' in response.text
    assert "<script>alert(1)</script>" not in response.text
    assert not BankAccount.objects.exists()
    assert stored_files(settings) == []


def test_bank_details_cannot_be_created_for_a_structure_the_user_does_not_manage(client, manager, settings):
    member_of = MembershipFactory(user=manager.user).structure
    for structure in [member_of, StructureFactory()]:
        response = client.post(CREATE, form_data(structure, valid_pdf()))
        assert "Aucune de vos structures ne correspond" in response.text
    assert not BankAccount.objects.exists()
    assert stored_files(settings) == []


def test_the_same_active_iban_is_not_recorded_twice(client, manager):
    BankAccountFactory(structure=manager.structure)
    response = client.post(CREATE, form_data(manager.structure, valid_pdf()))
    assert "Cet IBAN est déjà enregistré pour cette structure." in response.text
    assert BankAccount.objects.count() == 1


def test_list_shows_the_iban_masked_but_for_the_last_four_characters(client, manager):
    BankAccountFactory(structure=manager.structure, label="Compte exploitation")
    response = client.get(LIST)
    assert "Compte exploitation" in response.text
    assert "•••• 0189" in response.text
    assert "FR7630006000011234567890189" not in response.text
    assert "30006" not in response.text


def test_members_see_their_structures_bank_details_but_not_others(client):
    membership = MembershipFactory()
    BankAccountFactory(structure=membership.structure, label="Compte du GAEC")
    BankAccountFactory(label="Compte du voisin")
    client.force_login(membership.user)
    response = client.get(LIST)
    assert "Compte du GAEC" in response.text
    assert "Compte du voisin" not in response.text
    assert "Désactiver" not in response.text  # only managers deactivate


def test_manager_deactivates_bank_details_which_are_kept(client, manager):
    account = BankAccountFactory(structure=manager.structure)
    url = reverse("structures:bank_account_deactivate", args=[account.pk])
    assert "Désactiver la coordonnée bancaire" in client.get(url).text
    response = client.post(url, follow=True)
    assert "est désactivée" in response.text
    account.refresh_from_db()
    assert account.is_active is False
    assert default_storage.exists(account.rib_document.name)
    assert client.post(url).status_code == 404  # already inactive


def test_rib_download_is_an_attachment_with_nosniff(client, manager):
    account = BankAccountFactory(structure=manager.structure, rib_original_name="RIB GAEC.pdf")
    response = client.get(reverse("structures:bank_account_rib", args=[account.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "RIB GAEC.pdf" in response["Content-Disposition"]
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    response.close()


def test_plain_member_may_download_the_rib(client):
    membership = MembershipFactory()
    account = BankAccountFactory(structure=membership.structure)
    client.force_login(membership.user)
    response = client.get(reverse("structures:bank_account_rib", args=[account.pk]))
    assert response.status_code == 200
    response.close()


def test_filing_needs_bank_details_unless_management_centre():
    farm = StructureFactory()
    assert "coordonnées bancaires" in structure_filing_blocker(structure=farm)
    BankAccountFactory(structure=farm, is_active=False)
    assert structure_filing_blocker(structure=farm) is not None
    BankAccountFactory(structure=farm)
    assert structure_filing_blocker(structure=farm) is None
    assert structure_filing_blocker(structure=StructureFactory(management_centre=True)) is None


@pytest.mark.parametrize("rows", [2, 40])
def test_bank_account_list_queries_do_not_grow_with_rows(
    client, manager, django_assert_max_num_queries, rows
):
    for n in range(rows):
        structure = (
            MembershipFactory(user=manager.user, manager=True).structure if n % 2 else manager.structure
        )
        BankAccountFactory(structure=structure, label=f"Compte {n}")
    with django_assert_max_num_queries(6):
        response = client.get(LIST)
    assert response.text.count("Télécharger") == rows


@pytest.mark.parametrize("value", ["abc", "1e3", "99999999999999999999", "-1", "١"])
def test_create_page_ignores_a_structure_parameter_that_is_not_one_of_the_users(client, manager, value):
    response = client.get(CREATE, {"structure": value})
    assert response.status_code == 200
    assert "Créer une coordonnée bancaire" in response.text


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("AGRI-FRPP", "AGRIFRPP"), ("agri frpp xxx", "AGRIFRPPXXX"), ("AGRIFRPP１２３", "AGRIFRPP123")],
)
def test_bic_is_saved_as_checked_once_compacted(client, manager, typed, stored):
    response = client.post(CREATE, form_data(manager.structure, valid_pdf(), bic=typed), follow=True)
    assert "La coordonnée bancaire est enregistrée." in response.text
    assert BankAccount.objects.get().bic == stored


@pytest.mark.parametrize("typed", ["AGRIFRP", "AGRI FRPP 1", "AGRIFRPP-É1", "AGR1FRPP", "ＡＧＲＩＦＲＰＰ"])
def test_malformed_bic_is_refused_next_to_the_field(client, manager, typed):
    response = client.post(CREATE, form_data(manager.structure, valid_pdf(), bic=typed))
    assert response.status_code == 200
    assert "Ce BIC n&#x27;est pas valide" in response.text
    assert not BankAccount.objects.exists()
