"""Claudia's « J'ai perçu une avance en 2024 » reads the advance offers (rate, legal text, commitment,
deadlines, how to repay) and the user's own advances from the refund data: nothing is copied into the
tree."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from reimbursements.models import Advance, AdvanceOffer, Campaign, EnergyProduct, RefundRate, RefundRequest
from tests.factories import MembershipFactory, UserFactory
from tests.reimbursements.factories import RefundRequestFactory, text

pytestmark = pytest.mark.django_db

URL = reverse("support:assistant_node", args=["avance_2024"])


def test_advance_branch_is_offered_under_the_refund_questions(client):
    page = text(client.get(reverse("support:assistant_node", args=["remboursement"])))
    assert "J'ai perçu une avance en 2024" in page


def test_advance_answer_reads_rates_and_deadlines_from_the_offers(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        page = text(client.get(URL))
    assert "Avance au titre des livraisons 2024" in page
    assert "Demandée avec la demande 2023" in page
    assert "Montant 50 % du remboursement de la demande 2023" in page
    assert "Décret n° 2024-76" in page
    assert "Demande 2024 à déposer avant le 31 décembre 2027" in page
    assert "au plus tard le 31 décembre 2025" in page and "déclaration de TVA de décembre 2025" in page
    assert (
        "Acompte au titre des livraisons 2022" in page and "25 % du remboursement de la demande 2021" in page
    )
    AdvanceOffer.objects.filter(for_year=2024).update(repayment_deadline_applied=date(2026, 3, 31))
    assert "au plus tard le 31 mars 2026" in text(client.get(URL))


def test_signed_in_user_sees_the_advances_of_their_structures_and_whether_they_are_regularised(client):
    membership = MembershipFactory(main_manager=True)
    structure, user = membership.structure, membership.user
    request_2023 = RefundRequestFactory(
        structure=structure,
        status="paid",
        number="TIC-2023-000321",
        filed_at=timezone.now(),
        filed_by=user,
        created_by=user,
        paid_amount=Decimal("1"),
    )
    Advance.objects.create(
        request=request_2023,
        offer=AdvanceOffer.objects.get(for_year=2024),
        structure=structure,
        for_year=2024,
        requested_amount=Decimal("748"),
        paid_amount=Decimal("748"),
        paid_on=date(2024, 5, 2),
        recorded_by=UserFactory(staff=True),
    )
    MembershipFactory(main_manager=True)  # someone else's structure: not shown
    assert "Avances perçues par vos structures" not in text(client.get(URL))
    client.force_login(user)
    page = text(client.get(URL))
    assert f"{structure.name} 2024 748,00\u00a0€ (versée le 02/05/2024) Demande 2024 à déposer" in page
    RefundRequestFactory(
        structure=structure,
        campaign=Campaign.objects.get(year=2024),
        status="filed",
        number="TIC-2024-000001",
        filed_at=timezone.now(),
        filed_by=user,
        created_by=user,
    )
    assert "Demande 2024 déposée" in text(client.get(URL))
    assert RefundRequest.objects.count() == 2


def test_rates_answer_names_the_delivery_window_of_a_rate_that_does_not_cover_the_year(client):
    campaign = Campaign.objects.get(year=2024)
    campaign.closes_on = date(2099, 12, 31)
    campaign.save()
    RefundRate.objects.create(
        campaign=campaign,
        product=EnergyProduct.objects.get(code="gnr"),
        amount=Decimal("14.96"),
        legal_reference="Taux de test",
        deliveries_from=date(2024, 1, 1),
        deliveries_until=date(2024, 6, 30),
    )
    page = text(client.get(reverse("support:assistant_node", args=["produits_taux_delais"])))
    assert "Gazole non routier (GNR), livraisons du 01/01/2024 au 30/06/2024" in page
