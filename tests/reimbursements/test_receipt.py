import io
from decimal import Decimal

import pytest
from django.urls import reverse
from pypdf import PdfReader

from reimbursements import services
from reimbursements.models import EnergyProduct
from tests.reimbursements.factories import RefundLineFactory, RefundRequestFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("spring_2025")]


def test_accuse_de_depot_lists_number_structure_lines_and_total(client, farm, farmer, bank_account):
    draft = RefundRequestFactory(structure=farm, bank_account=bank_account)
    RefundLineFactory(request=draft, invoice_number="FAC<b>&1", quantity=Decimal("100"))
    RefundLineFactory(
        request=draft, product=EnergyProduct.objects.get(code="fioul-lourd"), quantity=Decimal("1000")
    )
    services.refund_request_file(refund_request_id=draft.pk, user=farmer, advance=False)
    client.force_login(farmer)
    response = client.get(reverse("reimbursements:receipt", kwargs={"pk": draft.pk}))
    assert response["Content-Type"] == "application/pdf"
    assert 'filename="accuse-de-depot-TIC-2023-000001.pdf"' in response["Content-Disposition"]
    content = PdfReader(io.BytesIO(response.content)).pages[0].extract_text().replace("\u00a0", " ")
    for expected in [
        "Accusé de dépôt",
        "TIC-2023-000001",
        "GAEC des Tilleuls",
        farm.siret,
        "FAC<b>&1",
        "Gazole non routier",
        "100\nhl\n14,96\n1 496,00 €",
        "1000\n100 kg\n13,76\n13 760,00 €",
        "Total\n15 256,00 €",
    ]:
        assert expected in content, expected


def test_draft_has_no_receipt(client, farm, farmer, bank_account):
    draft = RefundRequestFactory(structure=farm, bank_account=bank_account)
    client.force_login(farmer)
    assert client.get(reverse("reimbursements:receipt", kwargs={"pk": draft.pk})).status_code == 404
