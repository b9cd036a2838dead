from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from reimbursements.models import RefundLine
from tests.documents import EXECUTABLE, valid_jpeg, valid_pdf
from tests.reimbursements.factories import RefundLineFactory, RefundRequestFactory, text

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("spring_2025")]


@pytest.fixture
def draft(farm, bank_account):
    return RefundRequestFactory(structure=farm, bank_account=bank_account)


def add_url(draft):
    return reverse("reimbursements:line_create", kwargs={"pk": draft.pk})


def line_data(energy_product, **overrides):
    return {
        "invoice_number": "FAC-2023-118",
        "delivery_date": "2023-04-12",
        "product": energy_product.pk,
        "quantity": "12,5",
        "invoice_copy": valid_pdf("Facture avril.pdf"),
        **overrides,
    }


def test_valider_et_fermer_saves_the_line_with_the_server_computed_amount(client, farmer, draft, gnr):
    client.force_login(farmer)
    response = client.post(add_url(draft), line_data(gnr, amount="999999", rate="99"), follow=True)
    line = RefundLine.objects.get()
    assert (line.quantity, line.rate, line.amount) == (Decimal("12.5"), Decimal("14.96"), Decimal("187.00"))
    assert line.invoice_original_name == "Facture avril.pdf"
    assert line.invoice_copy.name.startswith("invoices/") and "avril" not in line.invoice_copy.name
    draft.refresh_from_db()
    assert draft.total_amount == Decimal("187.00")
    assert response.redirect_chain[-1][0] == reverse("reimbursements:detail", kwargs={"pk": draft.pk})
    page = text(response)
    assert "187,00\u00a0€" in page
    assert "Facture avril.pdf" in page


def test_valider_et_ajouter_une_nouvelle_ligne_returns_to_an_empty_line_form(client, farmer, draft, gas_fuel):
    client.force_login(farmer)
    response = client.post(
        add_url(draft), line_data(gas_fuel, quantity="1 000,250", add_another=""), follow=True
    )
    assert response.redirect_chain[-1][0] == add_url(draft)
    assert not response.context["form"].is_bound
    line = RefundLine.objects.get()
    assert (line.quantity, line.amount) == (Decimal("1000.250"), Decimal("7831.96"))  # 7831.9575


def test_line_without_invoice_copy_is_kept_in_the_draft(client, farmer, draft, gnr):
    client.force_login(farmer)
    client.post(add_url(draft), line_data(gnr, invoice_copy=""))
    assert not RefundLine.objects.get().invoice_copy


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"invoice_number": ""}, "invoice_number", "Ce champ est obligatoire."),
        ({"invoice_number": "F" * 51}, "invoice_number", "au plus 50 caractères"),
        ({"delivery_date": "2022-12-31"}, "delivery_date", "comprise dans l'année de la demande (2023)"),
        ({"delivery_date": "2024-01-01"}, "delivery_date", "comprise dans l'année de la demande (2023)"),
        ({"delivery_date": "31/02/2023"}, "delivery_date", "Saisissez une date valide."),
        ({"quantity": "0"}, "quantity", "supérieure à zéro"),
        ({"quantity": "-3"}, "quantity", "supérieure à zéro"),
        ({"quantity": "douze"}, "quantity", "Saisissez un nombre."),
        ({"quantity": "100000,001"}, "quantity", "ne peut pas dépasser 100000 hl"),
        ({"quantity": "1,0001"}, "quantity", "3 chiffres après la virgule"),
        ({"quantity": "<b>1</b>"}, "quantity", "Saisissez un nombre."),
        ({"product": ""}, "product", "Ce champ est obligatoire."),
        ({"invoice_copy": SimpleUploadedFile("facture.pdf", EXECUTABLE)}, "invoice_copy", "ni un PDF"),
        (
            {"invoice_copy": SimpleUploadedFile("facture.pdf", b"%PDF-1.4 broken")},
            "invoice_copy",
            "endommagé",
        ),
    ],
)
def test_invalid_line_shows_the_error_beside_the_field_and_saves_nothing(
    client, farmer, draft, gnr, overrides, field, message
):
    client.force_login(farmer)
    response = client.post(add_url(draft), line_data(gnr, **overrides))
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert f'id="id_{field}_error"' in response.content.decode()
    assert not RefundLine.objects.exists()
    if field != "invoice_number":
        assert 'value="FAC-2023-118"' in response.content.decode()


def test_invoice_copy_over_10_mb_is_refused(client, farmer, draft, gnr):
    client.force_login(farmer)
    big = SimpleUploadedFile(
        "facture.pdf", valid_pdf().read() + b"\0" * (10 * 1024 * 1024), "application/pdf"
    )
    response = client.post(add_url(draft), line_data(gnr, invoice_copy=big))
    assert "dépasse la taille maximale de 10 Mo" in " ".join(response.context["form"].errors["invoice_copy"])
    assert not RefundLine.objects.exists()


def test_product_without_rate_for_the_year_is_not_offered(client, farmer, draft):
    from reimbursements.models import EnergyProduct

    client.force_login(farmer)
    old_gas = EnergyProduct.objects.get(code="gaz-naturel")  # split from 2021 on
    response = client.post(add_url(draft), line_data(old_gas))
    assert "Sélectionnez un choix valide" in " ".join(response.context["form"].errors["product"])
    offered = {p.code for p in response.context["form"].fields["product"].queryset}
    assert offered == {
        "gnr",
        "fioul-lourd",
        "gpl-combustible",
        "gaz-naturel-combustible",
        "gaz-naturel-carburant",
    }


def test_line_form_shows_the_rates_of_the_year_for_users_without_javascript(client, farmer, draft):
    client.force_login(farmer)
    page = text(client.get(add_url(draft)))
    assert "Taux de remboursement 2023" in page
    assert "13,76 € par 100 kg" in page
    assert "7,83 € par MWh" in page


def test_live_estimate_uses_the_same_computation_as_the_save(client, farmer, draft, gnr):
    RefundLineFactory(request=draft, quantity=Decimal("10"))  # 149.60
    client.force_login(farmer)
    url = reverse("reimbursements:line_estimate", kwargs={"pk": draft.pk})
    page = text(client.get(url, {"product": gnr.pk, "quantity": "0,125"}, headers={"HX-Request": "true"}))
    assert "montant de la ligne : 1,87\u00a0€" in page  # 1.87
    assert "Total de la demande avec cette ligne : 151,47\u00a0€" in page
    page = text(client.get(url, {"product": gnr.pk, "quantity": "abc"}))
    assert "Indiquez la quantité pour voir le montant" in page
    page = text(client.get(url, {"product": "x", "quantity": "3"}))
    assert "Choisissez le produit" in page


def test_editing_a_line_recomputes_it_and_keeps_its_invoice_copy(client, farmer, draft, gnr):
    line = RefundLineFactory(request=draft, quantity=Decimal("10"))
    client.force_login(farmer)
    url = reverse("reimbursements:line_update", kwargs={"pk": draft.pk, "line_pk": line.pk})
    assert "Copie jointe : Facture carburant.pdf" in text(client.get(url))
    client.post(url, line_data(gnr, quantity="20", invoice_copy=""))
    line.refresh_from_db()
    draft.refresh_from_db()
    assert (line.amount, draft.total_amount) == (Decimal("299.20"), Decimal("299.20"))
    assert line.invoice_original_name == "Facture carburant.pdf"
    client.post(url, line_data(gnr, quantity="20", invoice_copy=valid_jpeg("scan.jpg")))
    line.refresh_from_db()
    assert line.invoice_original_name == "scan.jpg"


def test_deleting_a_line_updates_the_total(client, farmer, draft):
    line = RefundLineFactory(request=draft, quantity=Decimal("10"))
    RefundLineFactory(request=draft, quantity=Decimal("1"))
    client.force_login(farmer)
    client.post(reverse("reimbursements:line_delete", kwargs={"pk": draft.pk, "line_pk": line.pk}))
    draft.refresh_from_db()
    assert draft.total_amount == Decimal("14.96")


def test_invoice_copy_downloads_under_its_original_name(client, farmer, draft):
    line = RefundLineFactory(request=draft)
    client.force_login(farmer)
    response = client.get(reverse("reimbursements:line_invoice", kwargs={"pk": draft.pk, "line_pk": line.pk}))
    assert response["Content-Type"] == "application/pdf"
    assert "Facture carburant.pdf" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    response.close()


def test_filed_request_lines_cannot_be_changed(client, farmer, draft, gnr):
    from reimbursements.models import RefundRequest

    line = RefundLineFactory(request=draft)
    RefundRequest.objects.filter(pk=draft.pk).update(
        status="filed", number="TIC-2023-000001", filed_at="2025-06-01T10:00Z", filed_by=farmer
    )
    client.force_login(farmer)
    response = client.post(add_url(draft), line_data(gnr), follow=True)
    assert "ne peut plus être modifiée" in text(response)
    client.post(reverse("reimbursements:line_delete", kwargs={"pk": draft.pk, "line_pk": line.pk}))
    assert RefundLine.objects.count() == 1


def test_product_whose_own_deadline_passed_is_not_offered(client, farm, farmer, bank_account):
    from reimbursements.models import Campaign

    draft_2022 = RefundRequestFactory(
        structure=farm, bank_account=bank_account, campaign=Campaign.objects.get(year=2022)
    )
    client.force_login(farmer)
    offered = {p.code for p in client.get(add_url(draft_2022)).context["form"].fields["product"].queryset}
    assert "gnr" not in offered  # 2022 GNR closed on 31 December 2024
    assert "fioul-lourd" in offered


def test_line_is_refused_beside_the_invoice_field_and_nothing_kept_when_the_bucket_is_unreachable(
    client, farmer, draft, gnr, unreachable_bucket
):
    client.force_login(farmer)
    response = client.post(add_url(draft), line_data(gnr))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "Le dépôt des documents est momentanément indisponible" in errors["invoice_copy"][0]
    assert 'value="FAC-2023-118"' in response.text  # other input kept
    assert not RefundLine.objects.exists()
    draft.refresh_from_db()
    assert draft.total_amount == Decimal("0")
