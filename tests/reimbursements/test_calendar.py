"""The campaign calendar is data: dates from shared/domain.md, no rate made up, campaigns waiting for their
rates listed with « Taux non encore publiés », days left on the request list and the signed-in home page."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from reimbursements import selectors
from reimbursements.models import Campaign, RefundRate
from tests.reimbursements.factories import text

pytestmark = pytest.mark.django_db


def test_campaign_dates_of_domain_md_are_seeded():
    dates = {c.year: (c.opens_on, c.closes_on) for c in Campaign.objects.filter(year__gte=2021)}
    assert dates[2021][0] == date(2022, 4, 1)
    assert dates[2022][0] == date(2023, 1, 1)
    assert dates[2023] == (date(2024, 2, 1), date(2026, 12, 31))
    assert dates[2024] == (date(2025, 6, 1), date(2027, 12, 31))
    assert dates[2025][1] == date(2028, 12, 31)


def test_no_rate_is_made_up_for_2024_and_2025():
    assert not RefundRate.objects.filter(campaign__year__in=[2024, 2025]).exists()


@pytest.mark.usefixtures("spring_2025")
def test_request_list_shows_each_campaign_with_its_closing_date_and_days_left(client, farmer):
    client.force_login(farmer)
    page = text(client.get(reverse("reimbursements:list")))
    assert "Calendrier des campagnes" in page
    assert "2023 Ouvert depuis le 01/02/2024 31/12/2026 577 jours" in page
    assert (
        "2024 Taux non encore publiés Ouverture prévue le 01/06/2025 : le dépôt ouvre dès la publication des "
        "taux. 31/12/2027 942 jours"
    ) in page
    assert "2025 Taux non encore publiés Ouverture prévue le 01/02/2026. 31/12/2028" in page
    assert "2022 Ouvert depuis le 01/01/2023 31/12/2025 212 jours" in page
    assert "2021" not in page.split("Calendrier des campagnes")[1].split("Filtrer")[0]  # closed


@pytest.mark.usefixtures("spring_2025")
def test_a_campaign_opens_for_filing_as_soon_as_an_administrator_enters_a_rate(client, farmer, gnr):
    campaign_2024 = Campaign.objects.get(year=2024)
    RefundRate.objects.create(
        campaign=campaign_2024, product=gnr, amount=Decimal("1"), legal_reference="test"
    )
    client.force_login(farmer)
    assert "2024 Ouvert depuis le 01/06/2025 31/12/2027 942 jours" in text(
        client.get(reverse("reimbursements:list"))
    )
    years = [
        c.year
        for c in client.get(reverse("reimbursements:create")).context["form"].fields["campaign"].queryset
    ]
    assert 2024 in years and 2025 not in years


@pytest.mark.usefixtures("spring_2025")
def test_signed_in_home_page_shows_the_calendar_and_visitors_do_not(client, farmer):
    assert "Calendrier des campagnes" not in text(client.get(reverse("home")))
    client.force_login(farmer)
    page = text(client.get(reverse("home")))
    assert "Calendrier des campagnes" in page
    assert "2024 Taux non encore publiés" in page


def test_last_day_of_a_campaign_says_so():
    states = {s.campaign.year: s for s in selectors.campaign_calendar(date(2026, 12, 31))}
    assert states[2023].days_left == 0
    assert 2022 not in states


def test_calendar_is_one_query(django_assert_num_queries):
    with django_assert_num_queries(1):
        selectors.campaign_calendar(date(2025, 6, 2))
