from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group

from reimbursements.models import Campaign, RefundRate

pytestmark = pytest.mark.django_db

# shared/domain.md, « Rates »: every rate, by year and product (€ per unit).
DOMAIN_RATES = {
    2014: {"gnr": "5.00"},
    2015: {"gnr": "6.98"},
    2016: {"gnr": "8.97"},
    2017: {"gnr": "11.23", "fioul-lourd": "9.355", "gaz-naturel": "5.761"},
    **{
        year: {"gnr": "14.96", "fioul-lourd": "13.765", "gpl-combustible": "5.72", "gaz-naturel": "8.331"}
        for year in (2018, 2019, 2020)
    },
    2021: {
        "gnr": "14.96",
        "fioul-lourd": "13.765",
        "gpl-combustible": "5.72",
        "gaz-naturel-combustible": "7.89",
        "gaz-naturel-carburant": "4.69",
    },
    2022: {
        "gnr": "14.96",
        "fioul-lourd": "13.765",
        "gpl-combustible": "5.72",
        "gaz-naturel-combustible": "7.87",
        "gaz-naturel-carburant": "4.69",
    },
    2023: {
        "gnr": "14.96",
        "fioul-lourd": "13.76",
        "gpl-combustible": "5.72",
        "gaz-naturel-combustible": "7.83",
        "gaz-naturel-carburant": "4.69",
    },
    2024: {},
    2025: {},
}


def test_migration_seeds_every_rate_of_the_domain_table_and_nothing_else():
    seeded = {
        (rate.campaign.year, rate.product.code): rate.amount
        for rate in RefundRate.objects.select_related("campaign", "product")
    }
    expected = {
        (year, code): Decimal(amount)
        for year, rates in DOMAIN_RATES.items()
        for code, amount in rates.items()
    }
    assert seeded == expected


def test_every_campaign_closes_on_31_december_of_the_third_following_year():
    for campaign in Campaign.objects.all():
        assert campaign.closes_on == date(campaign.year + 3, 12, 31)
        assert campaign.opens_on.year == campaign.year + 1


def test_exceptions_are_data_gpl_2018_from_april_and_gnr_2022_closing_early():
    gpl_2018 = RefundRate.objects.get(campaign__year=2018, product__code="gpl-combustible")
    assert gpl_2018.deliveries_from == date(2018, 4, 1)
    assert not gpl_2018.covers_delivery(date(2018, 3, 31))
    assert gpl_2018.covers_delivery(date(2018, 4, 1))
    gnr_2022 = RefundRate.objects.get(campaign__year=2022, product__code="gnr")
    assert gnr_2022.last_filing_day() == date(2024, 12, 31)
    fuel_oil_2022 = RefundRate.objects.get(campaign__year=2022, product__code="fioul-lourd")
    assert fuel_oil_2022.last_filing_day() == date(2025, 12, 31)


def test_natural_gas_is_split_into_combustible_and_carburant_from_2021():
    codes = lambda year: set(  # noqa: E731
        RefundRate.objects.filter(campaign__year=year).values_list("product__code", flat=True)
    )
    assert "gaz-naturel" in codes(2020)
    assert {"gaz-naturel-combustible", "gaz-naturel-carburant"} <= codes(2021)
    assert "gaz-naturel" not in codes(2021)


@pytest.mark.parametrize(
    ("day", "open_years"),
    [
        (date(2025, 6, 2), [2023, 2022]),
        (date(2026, 6, 2), [2023]),
        (date(2024, 1, 15), [2022, 2021]),  # 2023 opens on 1 February 2024
    ],
)
def test_only_campaigns_between_their_dates_and_with_rates_are_open(day, open_years):
    assert list(Campaign.objects.open_on(day).order_by("-year").values_list("year", flat=True)) == open_years


def test_a_year_without_rates_opens_once_an_administrator_enters_one(gnr):
    campaign_2024 = Campaign.objects.get(year=2024)
    assert not Campaign.objects.open_on(date(2025, 6, 2)).filter(pk=campaign_2024.pk).exists()
    RefundRate.objects.create(
        campaign=campaign_2024, product=gnr, amount=Decimal("14.96"), legal_reference="CIBS"
    )
    assert Campaign.objects.open_on(date(2025, 6, 2)).filter(pk=campaign_2024.pk).exists()


def test_a_campaign_without_closing_date_gets_31_december_n_plus_3():
    campaign = Campaign(year=2030, opens_on=date(2031, 2, 1))
    campaign.full_clean()
    assert campaign.closes_on == date(2033, 12, 31)


def test_instructors_group_is_created_with_the_permissions_instruction_needs():
    group = Group.objects.get(name="Instructeurs")
    codenames = set(group.permissions.values_list("codename", flat=True))
    assert {"view_refundrequest", "instruct_refundrequest", "view_refundline", "view_structure"} <= codenames
    assert not any(name.startswith(("delete_", "add_")) for name in codenames)
