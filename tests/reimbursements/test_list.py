import csv
import io
from datetime import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from reimbursements.models import Campaign, RefundRequest
from structures.models import Membership, Structure
from tests.factories import MembershipFactory, StructureFactory, UserFactory, valid_siret
from tests.reimbursements.factories import RefundRequestFactory, text

pytestmark = pytest.mark.django_db

LIST = reverse("reimbursements:list")
EXPORT = reverse("reimbursements:export")


@pytest.fixture
def accountant(db):
    """A firm's accountant attached to two client farms (and to the firm itself)."""
    user = MembershipFactory(structure=StructureFactory(management_centre=True)).user
    for name in ("EARL des Saules", "GAEC du Moulin"):
        MembershipFactory(user=user, structure=StructureFactory(name=name))
    return user


def test_list_shows_the_requests_of_every_structure_the_user_is_attached_to(client, accountant):
    saules, moulin = Structure.objects.filter(name__in=["EARL des Saules", "GAEC du Moulin"]).order_by("name")
    RefundRequestFactory(
        structure=saules,
        status="filed",
        number="TIC-2023-000007",
        filed_at=timezone.now(),
        filed_by=accountant,
        total_amount=Decimal("1234.5"),
    )
    RefundRequestFactory(structure=moulin, campaign=Campaign.objects.get(year=2022))
    RefundRequestFactory()  # someone else's
    client.force_login(accountant)
    page = text(client.get(LIST))
    assert "2 demandes de remboursement" in page
    assert "TIC-2023-000007" in page and "1\u00a0234,50\u00a0€" in page and "Déposée" in page
    assert "GAEC du Moulin" in page and "Brouillon" in page
    assert "Saisir une demande de remboursement" in page


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"year": "2022"}, {"GAEC du Moulin"}),
        ({"status": "filed"}, {"EARL des Saules"}),
        ({"number": "000007"}, {"EARL des Saules"}),
        ({"number": "tic-2023"}, {"EARL des Saules"}),
        ({}, {"EARL des Saules", "GAEC du Moulin"}),
        ({"year": "abc", "status": "<script>"}, {"EARL des Saules", "GAEC du Moulin"}),
    ],
)
def test_list_filters_by_structure_year_status_and_number(client, accountant, params, expected):
    saules, moulin = Structure.objects.filter(name__in=["EARL des Saules", "GAEC du Moulin"]).order_by("name")
    RefundRequestFactory(
        structure=saules,
        status="filed",
        number="TIC-2023-000007",
        filed_at=timezone.now(),
        filed_by=accountant,
    )
    RefundRequestFactory(structure=moulin, campaign=Campaign.objects.get(year=2022))
    client.force_login(accountant)
    response = client.get(LIST, params)
    assert {r.structure.name for r in response.context["page"]} == expected
    assert response.status_code == 200


def test_structure_filter_offers_only_attached_structures(client, accountant):
    saules = Structure.objects.get(name="EARL des Saules")
    stranger = RefundRequestFactory()
    client.force_login(accountant)
    response = client.get(LIST, {"structure": stranger.structure.siret})
    assert "Aucune de vos structures ne correspond" in text(response)
    assert response.context["page"].object_list.count() == 0 or all(
        r.structure_id != stranger.structure_id for r in response.context["page"]
    )
    response = client.get(LIST, {"structure": saules.siret})
    assert response.status_code == 200
    assert {r.structure_id for r in response.context["page"]} <= {saules.pk}


def test_management_centre_user_without_clients_cannot_create(client):
    user = MembershipFactory(structure=StructureFactory(management_centre=True)).user
    client.force_login(user)
    assert "Saisir une demande de remboursement" not in text(client.get(LIST))


def _many_requests(user, count):
    """`count` requests over the seeded campaigns of count/12 structures the user is attached to."""
    campaigns = list(Campaign.objects.order_by("year"))
    creator = UserFactory()
    structures = Structure.objects.bulk_create(
        Structure(
            siret=valid_siret(500000 + i),
            name=f"Ferme {i:04d}",
            street="1 rue",
            postcode="35000",
            city="Rennes",
            created_by=creator,
        )
        for i in range(-(-count // len(campaigns)))
    )
    Membership.objects.bulk_create(Membership(user=user, structure=s) for s in structures)
    RefundRequest.objects.bulk_create(
        RefundRequest(
            structure=structures[i // len(campaigns)],
            campaign=campaigns[i % len(campaigns)],
            created_by=creator,
            total_amount=Decimal("10.5"),
        )
        for i in range(count)
    )


@pytest.mark.parametrize("count", [10, 1000])
def test_list_and_export_keep_a_constant_number_of_queries(client, django_assert_max_num_queries, count):
    user = UserFactory()
    _many_requests(user, count)
    client.force_login(user)
    with django_assert_max_num_queries(12):
        response = client.get(LIST, {"status": "draft"})
    assert response.context["page"].paginator.count == count
    with django_assert_max_num_queries(10):
        response = client.get(EXPORT)
        body = b"".join(response.streaming_content)
    assert body.decode("utf-8-sig").count("\r\n") == count + 1


def test_export_opens_in_french_spreadsheets(client, accountant):
    saules = Structure.objects.get(name="EARL des Saules")
    saules.name = '=HYPERLINK("x")'
    saules.save()
    RefundRequestFactory(
        structure=saules,
        status="paid",
        number="TIC-2023-000007",
        filed_at=timezone.make_aware(datetime(2024, 3, 5, 23, 30)),
        filed_by=accountant,
        total_amount=Decimal("1234.5"),
        paid_amount=Decimal("1200"),
    )
    client.force_login(accountant)
    response = client.get(EXPORT)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == [
        "Numéro",
        "Structure",
        "SIRET",
        "Année",
        "État",
        "Montant demandé (€)",
        "Montant payé (€)",
        "Date de dépôt",
        "Avance perçue (€)",
        "Solde (€)",
    ]
    assert rows[1] == [
        "TIC-2023-000007",
        '\'=HYPERLINK("x")',
        saules.siret,
        "2023",
        "Mise en paiement",
        "1234,50",
        "1200,00",
        "05/03/2024",
        "",
        "",
    ]


def test_export_follows_the_list_filters(client, accountant):
    moulin = Structure.objects.get(name="GAEC du Moulin")
    RefundRequestFactory(structure=moulin, campaign=Campaign.objects.get(year=2022))
    RefundRequestFactory(structure=moulin)
    client.force_login(accountant)
    body = b"".join(client.get(EXPORT, {"year": "2022"}).streaming_content).decode("utf-8-sig")
    assert body.count("\r\n") == 2 and ";2022;" in body


def test_menu_offers_demandes_de_remboursement_to_signed_in_users(client, farmer):
    client.force_login(farmer)
    assert f'href="{LIST}"' in client.get(reverse("home")).content.decode()
    client.logout()
    assert f'href="{LIST}"' not in client.get(reverse("home")).content.decode()


def test_user_not_attached_yet_is_told_to_ask_for_an_attachment(client):
    client.force_login(UserFactory())
    page = text(client.get(LIST))
    assert "rattachez d'abord votre compte à la structure du bénéficiaire" in page
    assert "Saisir une demande de remboursement" not in page
