"""The answer « Quels produits, quels taux et quelles dates limites ? » reads the refund campaigns
(reimbursements app): nothing of it is copied into the assistant's tree."""

from datetime import date
from decimal import Decimal

import pytest
from django.apps import apps
from django.urls import reverse

pytestmark = pytest.mark.django_db

URL = reverse("support:assistant_node", args=["produits_taux_delais"])


def campaign_models():
    try:
        return (
            apps.get_model("reimbursements", "Campaign"),
            apps.get_model("reimbursements", "EnergyProduct"),
            apps.get_model("reimbursements", "RefundRate"),
        )
    except LookupError:
        return None


def test_rates_answer_says_so_when_no_campaign_is_open(client):
    models = campaign_models()
    if models:
        models[0].objects.all().delete()
    response = client.get(URL)
    assert response.status_code == 200
    assert "Aucune campagne de dépôt n'est publiée pour le moment." in response.text


@pytest.mark.skipif(campaign_models() is None, reason="the reimbursements models are not merged yet")
def test_rates_answer_shows_the_campaign_products_rates_and_deadlines(client, django_assert_max_num_queries):
    campaign_model, product_model, rate_model = campaign_models()
    campaign_model.objects.all().delete()
    today = date.today()
    gnr, _ = product_model.objects.get_or_create(
        code="gnr-test", defaults={"label": "Gazole non routier (test)", "unit": "hl", "max_quantity": 100000}
    )
    current = campaign_model.objects.create(
        year=today.year - 1, opens_on=date(today.year, 2, 1), closes_on=date(today.year + 2, 12, 31)
    )
    rate_model.objects.create(
        campaign=current, product=gnr, amount=Decimal("14.96"), legal_reference="CIBS L.312-60"
    )
    campaign_model.objects.create(
        year=today.year - 5, opens_on=date(today.year - 4, 2, 1), closes_on=date(today.year - 2, 12, 31)
    )
    with django_assert_max_num_queries(8):
        response = client.get(URL)
    text = response.text
    assert f"Campagne {today.year - 1}" in text
    assert "Gazole non routier (test)" in text
    assert "14,96 € par hl" in text
    assert f"31 décembre {today.year + 2}" in text
    assert f"Campagne {today.year - 5}" not in text  # closed: no longer open to filing
