"""Rates by delivery period: one product may have several rates in a campaign, one per delivery window,
never two for the same day. The 2024 figures below are test rates typed by a test administrator: no
2024 rate is published (shared/domain.md), so the seeded data have none."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from reimbursements import services
from reimbursements.forms import estimate
from reimbursements.models import Campaign, RefundLine, RefundRate
from tests.conftest import requires_postgresql, verify_session
from tests.factories import UserFactory
from tests.reimbursements.factories import RefundRequestFactory, text

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("spring_2025")]

FIRST_HALF, SECOND_HALF = Decimal("14.96"), Decimal("20.95")


@pytest.fixture
def campaign_2024(db):
    return Campaign.objects.get(year=2024)


@pytest.fixture
def gnr_2024(campaign_2024, gnr):
    """GNR 2024 with two test rates, before and after 1 July."""
    return [
        RefundRate.objects.create(
            campaign=campaign_2024,
            product=gnr,
            amount=FIRST_HALF,
            legal_reference="Taux de test",
            deliveries_from=date(2024, 1, 1),
            deliveries_until=date(2024, 6, 30),
        ),
        RefundRate.objects.create(
            campaign=campaign_2024,
            product=gnr,
            amount=SECOND_HALF,
            legal_reference="Taux de test",
            deliveries_from=date(2024, 7, 1),
            deliveries_until=date(2024, 12, 31),
        ),
    ]


def test_existing_rates_migrated_to_whole_year_windows_with_unchanged_amounts():
    gnr_2023 = RefundRate.objects.get(campaign__year=2023, product__code="gnr")
    assert (gnr_2023.deliveries_from, gnr_2023.deliveries_until, gnr_2023.amount) == (
        date(2023, 1, 1),
        date(2023, 12, 31),
        Decimal("14.96"),
    )
    gpl_2018 = RefundRate.objects.get(campaign__year=2018, product__code="gpl-combustible")
    assert (gpl_2018.deliveries_from, gpl_2018.deliveries_until) == (date(2018, 4, 1), date(2018, 12, 31))
    assert not RefundRate.objects.filter(deliveries_from__isnull=True).exists()


@pytest.mark.parametrize(
    ("day", "quantity", "rate", "amount", "window"),
    [
        (date(2024, 1, 1), "100", "14.96", "1496.00", "du 01/01/2024 au 30/06/2024"),
        (date(2024, 6, 30), "100", "14.96", "1496.00", "du 01/01/2024 au 30/06/2024"),
        (date(2024, 7, 1), "100", "20.95", "2095.00", "du 01/07/2024 au 31/12/2024"),
        (date(2024, 12, 31), "100", "20.95", "2095.00", "du 01/07/2024 au 31/12/2024"),
        (date(2024, 6, 30), "0.5", "14.96", "7.48", "du 01/01/2024 au 30/06/2024"),
        (date(2024, 7, 1), "0.5", "20.95", "10.48", "du 01/07/2024 au 31/12/2024"),  # 10.475 rounds up
        (date(2024, 7, 1), "0.001", "20.95", "0.02", "du 01/07/2024 au 31/12/2024"),  # 0.02095
    ],
)
def test_line_rate_is_picked_by_delivery_date_at_the_1_july_boundary(
    farm, farmer, bank_account, campaign_2024, gnr, gnr_2024, day, quantity, rate, amount, window
):
    draft = RefundRequestFactory(structure=farm, bank_account=bank_account, campaign=campaign_2024)
    line = services.refund_line_save(
        refund_request_id=draft.pk,
        invoice_number="FAC-1",
        delivery_date=day,
        product=gnr,
        quantity=Decimal(quantity),
    )
    assert (line.rate, line.amount) == (Decimal(rate), Decimal(amount))
    chosen = services.line_rate(campaign=campaign_2024, product=gnr, delivery_date=day)
    assert chosen.window_label == window


def test_two_lines_on_both_sides_of_1_july_total_with_their_own_rates(
    farm, bank_account, campaign_2024, gnr, gnr_2024
):
    draft = RefundRequestFactory(structure=farm, bank_account=bank_account, campaign=campaign_2024)
    for number, day in (("A", date(2024, 6, 30)), ("B", date(2024, 7, 1))):
        services.refund_line_save(
            refund_request_id=draft.pk,
            invoice_number=number,
            delivery_date=day,
            product=gnr,
            quantity=Decimal("10"),
        )
    draft.refresh_from_db()
    assert draft.total_amount == Decimal("149.60") + Decimal("209.50")


def test_a_day_covered_by_no_window_names_the_windows_that_exist(campaign_2024, gnr):
    RefundRate.objects.create(
        campaign=campaign_2024,
        product=gnr,
        amount=FIRST_HALF,
        legal_reference="Taux de test",
        deliveries_from=date(2024, 1, 1),
        deliveries_until=date(2024, 6, 30),
    )
    with pytest.raises(services.RefundError) as error:
        services.line_rate(campaign=campaign_2024, product=gnr, delivery_date=date(2024, 7, 14))
    assert error.value.field == "delivery_date"
    assert str(error.value) == (
        "Aucun taux du produit « Gazole non routier (GNR) » ne s'applique aux livraisons du 14/07/2024. "
        "Taux fixés en 2024 pour les livraisons du 01/01/2024 au 30/06/2024."
    )


def test_line_form_refuses_a_day_without_rate_beside_the_date_and_keeps_the_input(
    client, farmer, farm, bank_account, campaign_2024, gnr
):
    RefundRate.objects.create(
        campaign=campaign_2024,
        product=gnr,
        amount=FIRST_HALF,
        legal_reference="Taux de test",
        deliveries_from=date(2024, 1, 1),
        deliveries_until=date(2024, 6, 30),
    )
    draft = RefundRequestFactory(structure=farm, bank_account=bank_account, campaign=campaign_2024)
    client.force_login(farmer)
    response = client.post(
        reverse("reimbursements:line_create", kwargs={"pk": draft.pk}),
        {"invoice_number": "FAC-JUIL", "delivery_date": "2024-07-14", "product": gnr.pk, "quantity": "10"},
    )
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors["delivery_date"])
    assert "livraisons du 01/01/2024 au 30/06/2024" in errors
    assert 'value="FAC-JUIL"' in response.content.decode()
    assert not RefundLine.objects.exists()


def test_line_form_and_live_estimate_name_the_period_that_applies(
    client, farmer, farm, bank_account, campaign_2024, gnr, gnr_2024
):
    draft = RefundRequestFactory(structure=farm, bank_account=bank_account, campaign=campaign_2024)
    client.force_login(farmer)
    form_page = text(client.get(reverse("reimbursements:line_create", kwargs={"pk": draft.pk})))
    assert "du 01/01/2024 au 30/06/2024 14,96 € par hl" in form_page
    assert "du 01/07/2024 au 31/12/2024 20,95 € par hl" in form_page
    url = reverse("reimbursements:line_estimate", kwargs={"pk": draft.pk})
    page = text(client.get(url, {"product": gnr.pk, "quantity": "10", "delivery_date": "2024-07-01"}))
    assert "Taux applicable aux livraisons du 01/07/2024 au 31/12/2024 : 20,95 € par hl" in page
    assert "montant de la ligne : 209,50\u00a0€" in page
    page = text(client.get(url, {"product": gnr.pk, "quantity": "10"}))
    assert "dépend de la date de livraison" in page
    assert "indiquez-la" in page


def test_estimate_of_a_single_window_product_needs_no_date(campaign_2023, gnr):
    result = estimate(campaign=campaign_2023, data={"product": gnr.pk, "quantity": "10"})
    assert (result["rate"], result["amount"], result["window"]) == (
        Decimal("14.96"),
        Decimal("149.60"),
        "du 01/01/2023 au 31/12/2023",
    )


def test_filing_recomputes_each_line_with_the_rate_of_its_delivery_date(
    farm, farmer, bank_account, campaign_2024, gnr, gnr_2024
):
    draft = RefundRequestFactory(structure=farm, bank_account=bank_account, campaign=campaign_2024)
    line = services.refund_line_save(
        refund_request_id=draft.pk,
        invoice_number="A",
        delivery_date=date(2024, 7, 1),
        product=gnr,
        quantity=Decimal("1"),
    )
    RefundLine.objects.filter(pk=line.pk).update(
        rate=FIRST_HALF, amount=Decimal("14.96"), invoice_copy="x.pdf"
    )
    services.refund_request_file(refund_request_id=draft.pk, user=farmer)
    line.refresh_from_db()
    assert (line.rate, line.amount) == (SECOND_HALF, Decimal("20.95"))


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2024, 6, 30), date(2024, 8, 31)),  # shares the last day of the first window
        (date(2024, 1, 1), date(2024, 12, 31)),  # covers both
        (date(2024, 3, 1), date(2024, 3, 1)),  # one day inside the first
    ],
)
def test_overlapping_window_is_refused_by_model_validation_on_every_database(
    campaign_2024, gnr, gnr_2024, start, end
):
    rate = RefundRate(
        campaign=campaign_2024,
        product=gnr,
        amount=Decimal("1"),
        legal_reference="x",
        deliveries_from=start,
        deliveries_until=end,
    )
    with pytest.raises(ValidationError) as error:
        rate.full_clean()
    assert "les périodes d'un même produit ne peuvent pas se chevaucher" in str(error.value)


@requires_postgresql
def test_postgresql_exclusion_constraint_refuses_overlapping_windows_written_directly(
    campaign_2024, gnr, gnr_2024
):
    with pytest.raises(IntegrityError, match="refund_rate_windows_do_not_overlap"), transaction.atomic():
        RefundRate.objects.create(
            campaign=campaign_2024,
            product=gnr,
            amount=Decimal("1"),
            legal_reference="x",
            deliveries_from=date(2024, 6, 30),
            deliveries_until=date(2024, 7, 1),
        )
    assert RefundRate.objects.filter(campaign=campaign_2024).count() == 2


@requires_postgresql
def test_postgresql_allows_adjacent_windows_and_the_same_window_for_another_product(
    campaign_2024, gnr, gas_fuel, gnr_2024
):
    RefundRate.objects.create(
        campaign=campaign_2024,
        product=gas_fuel,
        amount=Decimal("1"),
        legal_reference="x",
        deliveries_from=date(2024, 1, 1),
        deliveries_until=date(2024, 6, 30),
    )
    assert RefundRate.objects.filter(campaign=campaign_2024).count() == 3


@pytest.mark.parametrize(
    ("start", "end", "field", "message"),
    [
        (date(2023, 12, 31), date(2024, 6, 30), "deliveries_from", "doivent être datées de 2024"),
        (date(2024, 7, 1), date(2025, 1, 1), "deliveries_until", "doivent être datées de 2024"),
        (date(2024, 7, 1), date(2024, 6, 30), "deliveries_until", "doit suivre son début"),
    ],
)
def test_window_outside_the_campaign_year_or_backwards_is_refused(
    campaign_2024, gnr, start, end, field, message
):
    rate = RefundRate(
        campaign=campaign_2024,
        product=gnr,
        amount=Decimal("1"),
        legal_reference="x",
        deliveries_from=start,
        deliveries_until=end,
    )
    with pytest.raises(ValidationError) as error:
        rate.full_clean()
    assert message in " ".join(error.value.message_dict[field])


@pytest.fixture
def admin_client(client):
    verify_session(client, UserFactory(staff=True, is_superuser=True))
    return client


def campaign_form(campaign, rows):
    data = {
        "year": campaign.year,
        "opens_on": campaign.opens_on.isoformat(),
        "closes_on": campaign.closes_on.isoformat(),
        "rates-TOTAL_FORMS": len(rows),
        "rates-INITIAL_FORMS": 0,
        "rates-MIN_NUM_FORMS": 0,
        "rates-MAX_NUM_FORMS": 1000,
        "advance_offer-TOTAL_FORMS": 0,
        "advance_offer-INITIAL_FORMS": 0,
    }
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"rates-{index}-{key}"] = value
    return data


def rate_row(product, amount, start="", end=""):
    return {
        "product": product.pk,
        "amount": amount,
        "legal_reference": "Taux de test",
        "deliveries_from": start,
        "deliveries_until": end,
        "closes_on": "",
    }


def test_admin_enters_two_periods_of_one_product_in_the_campaign_form(admin_client, campaign_2024, gnr):
    url = reverse("admin:reimbursements_campaign_change", args=[campaign_2024.pk])
    response = admin_client.post(
        url,
        campaign_form(
            campaign_2024,
            [rate_row(gnr, "14.96", "2024-01-01", "2024-06-30"), rate_row(gnr, "20.95", "2024-07-01", "")],
        ),
    )
    assert response.status_code == 302, response.context["inline_admin_formsets"][0].formset.errors
    windows = list(
        campaign_2024.rates.order_by("deliveries_from").values_list("deliveries_from", "deliveries_until")
    )
    assert windows == [(date(2024, 1, 1), date(2024, 6, 30)), (date(2024, 7, 1), date(2024, 12, 31))]
    assert Campaign.objects.open_on(date(2025, 6, 2)).filter(pk=campaign_2024.pk).exists()


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            lambda gnr: [
                rate_row(gnr, "14.96", "2024-01-01", "2024-07-01"),
                rate_row(gnr, "20.95", "2024-07-01"),
            ],
            "les périodes de livraison du 01/01/2024 au 01/07/2024 et du 01/07/2024 au 31/12/2024 se chevauchent",
        ),
        (
            lambda gnr: [rate_row(gnr, "14.96"), rate_row(gnr, "20.95", "2024-07-01")],
            "se chevauchent",
        ),
        (lambda gnr: [rate_row(gnr, "14.96", "2023-07-01")], "doivent être datées de 2024"),
    ],
)
def test_admin_campaign_form_refuses_bad_windows_and_saves_nothing(
    admin_client, campaign_2024, gnr, rows, message
):
    url = reverse("admin:reimbursements_campaign_change", args=[campaign_2024.pk])
    response = admin_client.post(url, campaign_form(campaign_2024, rows(gnr)))
    assert response.status_code == 200
    assert message in text(response)
    assert not campaign_2024.rates.exists()


def test_admin_rate_form_refuses_a_window_overlapping_a_saved_one(admin_client, campaign_2024, gnr, gnr_2024):
    response = admin_client.post(
        reverse("admin:reimbursements_refundrate_add"),
        {**rate_row(gnr, "3", "2024-06-01", "2024-06-30"), "campaign": campaign_2024.pk},
    )
    assert response.status_code == 200
    assert "ne peuvent pas se chevaucher" in text(response)
    assert campaign_2024.rates.count() == 2
