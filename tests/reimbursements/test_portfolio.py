import csv
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from reimbursements.models import Campaign, RefundRequest
from structures.models import BankAccount, BeneficiaryCategory, Membership, Structure
from tests.factories import BankAccountFactory, MembershipFactory, StructureFactory, UserFactory, valid_siret
from tests.reimbursements.factories import RefundLineFactory, RefundRequestFactory, text

pytestmark = pytest.mark.django_db

PAGE = reverse("reimbursements:portfolio")
CSV = reverse("reimbursements:portfolio_csv")
XLSX = reverse("reimbursements:portfolio_xlsx")


@pytest.fixture
def firm_user(db):
    """An accountant of a management centre, attached to the firm and to three clients."""
    user = MembershipFactory(structure=StructureFactory(management_centre=True, name="Cabinet Compta")).user
    category = BeneficiaryCategory.objects.get(code="societe-agricole")
    for name, siret_seed in (("EARL des Saules", 1), ("GAEC du Moulin", 2), ("=SCEA Formule", 3)):
        MembershipFactory(
            user=user,
            structure=StructureFactory(
                name=name, siret=valid_siret(900 + siret_seed), beneficiary_category=category
            ),
        )
    return user


def _structure(name):
    return Structure.objects.get(name=name)


@pytest.fixture
def portfolio_data(firm_user, spring_2025):
    saules, moulin = _structure("EARL des Saules"), _structure("GAEC du Moulin")
    filed = RefundRequestFactory(
        structure=saules,
        status="paid",
        number="TIC-2023-000001",
        filed_at=timezone.now(),
        filed_by=firm_user,
        total_amount=Decimal("1000.00"),
        paid_amount=Decimal("900.00"),
    )
    draft = RefundRequestFactory(
        structure=moulin, campaign=Campaign.objects.get(year=2022), not_in_difficulty=False, bank_account=None
    )
    BankAccountFactory(structure=_structure("=SCEA Formule"), rib_document="")
    RefundRequestFactory(total_amount=Decimal("5000"))  # someone else's client
    return filed, draft


def test_portfolio_shows_one_row_per_client_and_one_column_per_open_campaign(
    client, firm_user, portfolio_data
):
    client.force_login(firm_user)
    response = client.get(PAGE)
    page = text(response)
    assert "3 clients" in page
    assert "Cabinet Compta" not in page  # the firm itself files for nobody
    assert [c.campaign.year for c in response.context["columns"]] == [2023, 2022]
    assert "clôture le 31/12/2026 (577 jours restants)" in page
    rows = {
        row.client.name: [(cell.state, cell.amount, cell.blockers) for cell in row.cells]
        for row in response.context["rows"]
    }
    assert rows["EARL des Saules"][0] == ("paid", Decimal("1000.00"), [])
    assert rows["GAEC du Moulin"][1] == (
        "draft",
        Decimal("0"),
        ["pas de coordonnées bancaires", "aucune ligne", "déclaration sur l'honneur non cochée"],
    )
    assert rows["=SCEA Formule"][0] == ("none", None, ["pas de copie du RIB", "aucune ligne"])
    assert "Mise en paiement" in page and "1\u00a0000,00\u00a0€" in page
    assert "Bloque le dépôt : pas de coordonnées bancaires, aucune ligne" in page


def test_totals_and_chart_cover_the_filtered_clients(client, firm_user, portfolio_data):
    client.force_login(firm_user)
    response = client.get(PAGE)
    totals = response.context["totals"]
    assert (totals.requested, totals.paid) == (Decimal("1000.00"), Decimal("900.00"))
    # 3 clients × 2 open campaigns, one of them paid.
    assert totals.to_do == 5
    page = text(response)
    assert "Montant demandé : 1\u00a0000,00\u00a0€" in page and "À faire : 5 demandes" in page
    html = response.content.decode()
    assert '<svg role="img"' in html and "Montants demandés et payés par campagne" in html
    # The chart's text alternative: a table of the same figures.
    assert "2023 1\u00a0000,00\u00a0€ 900,00\u00a0€" in page


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "moulin"}, {"GAEC du Moulin"}),
        ({"q": valid_siret(901)[:9]}, {"EARL des Saules"}),
        ({"state": "draft"}, {"GAEC du Moulin"}),
        ({"state": "paid"}, {"EARL des Saules"}),
        ({"state": "none"}, {"EARL des Saules", "GAEC du Moulin", "=SCEA Formule"}),
        ({"state": "none", "year": "2022"}, {"EARL des Saules", "=SCEA Formule"}),
        ({"to_do": "on", "year": "2023"}, {"GAEC du Moulin", "=SCEA Formule"}),
        ({"to_do": "on"}, {"EARL des Saules", "GAEC du Moulin", "=SCEA Formule"}),
        (
            {"year": "1999", "state": "<b>", "sort": "x"},
            {"EARL des Saules", "GAEC du Moulin", "=SCEA Formule"},
        ),
    ],
)
def test_filters(client, firm_user, portfolio_data, params, expected):
    client.force_login(firm_user)
    response = client.get(PAGE, params)
    assert response.status_code == 200
    assert {row.client.name for row in response.context["rows"]} == expected


def test_sort_by_requested_amount(client, firm_user, portfolio_data):
    client.force_login(firm_user)
    names = [row.client.name for row in client.get(PAGE, {"sort": "-requested"}).context["rows"]]
    assert names[0] == "EARL des Saules"
    names = [row.client.name for row in client.get(PAGE, {"sort": "-name"}).context["rows"]]
    assert names == ["GAEC du Moulin", "EARL des Saules", "=SCEA Formule"]


def test_a_user_without_clients_sees_an_empty_portfolio(client, spring_2025):
    client.force_login(UserFactory())
    response = client.get(PAGE)
    assert "0 client" in text(response) and "Aucun client ne correspond." in text(response)
    assert response.context["totals"].to_do == 0


def test_csv_export_lists_every_client_and_campaign_safely(client, firm_user, portfolio_data):
    client.force_login(firm_user)
    response = client.get(CSV, {"sort": "name"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    content = b"".join(response.streaming_content).decode()
    assert content.startswith("\ufeffSIRET;Raison sociale;Année;État")
    rows = list(csv.reader(io.StringIO(content.lstrip("\ufeff")), delimiter=";"))
    assert len(rows) == 1 + 3 * 2
    assert rows[1][1:4] == ["'=SCEA Formule", "2023", "Aucune"]
    saules_2023 = next(r for r in rows if r[1] == "EARL des Saules" and r[2] == "2023")
    assert saules_2023[3:7] == ["Mise en paiement", "TIC-2023-000001", "1000,00", "900,00"]


def test_xlsx_export_follows_the_filters(client, firm_user, portfolio_data):
    client.force_login(firm_user)
    response = client.get(XLSX, {"state": "draft"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("SIRET", "Raison sociale", "Année", "État")
    assert {(r[1], r[2], r[3]) for r in rows[1:]} == {
        ("GAEC du Moulin", 2023, "Aucune"),
        ("GAEC du Moulin", 2022, "Brouillon"),
    }
    assert response["Cache-Control"] == "private, no-store"


def _many_clients(user, count: int, *, start: int = 0) -> None:
    """`count` client farms for `user`, each with a bank account and two requests (one with lines)."""
    owner = UserFactory()
    structures = Structure.objects.bulk_create(
        Structure(
            siret=valid_siret(500000 + start + n),
            name=f"Ferme {n:05d}",
            street="1 route",
            postcode="35000",
            city="Rennes",
            created_by=owner,
        )
        for n in range(count)
    )
    Membership.objects.bulk_create(Membership(user=user, structure=s) for s in structures)
    BankAccount.objects.bulk_create(
        BankAccount(
            structure=s,
            label="Compte",
            holder=s.name,
            iban="FR7630006000011234567890189",
            bic="AGRIFRPP",
            rib_document="rib/x.pdf",
            created_by=owner,
        )
        for s in structures
    )
    campaigns = list(Campaign.objects.filter(year__in=[2022, 2023]))
    RefundRequest.objects.bulk_create(
        RefundRequest(structure=s, campaign=c, created_by=owner, total_amount=Decimal("10"))
        for s in structures
        for c in campaigns
    )
    RefundLineFactory(request=RefundRequest.objects.filter(structure=structures[0]).first())


def _queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    "params", [{}, {"to_do": "on", "sort": "-requested", "q": "ferme"}, {"state": "none"}]
)
def test_query_count_is_the_same_at_20_and_2000_clients(
    client, spring_2025, params, django_assert_max_num_queries
):
    small, large = UserFactory(), UserFactory()
    _many_clients(small, 20)
    _many_clients(large, 2000, start=100)
    client.force_login(small)
    at_20 = _queries(client, PAGE, params)
    client.force_login(large)
    with django_assert_max_num_queries(at_20):
        response = client.get(PAGE, params)
    assert len(response.context["rows"]) == (50 if "state" not in params else 0)
    assert len(response.content) < 100 * 1024


def test_export_query_count_grows_with_chunks_not_rows(client, spring_2025):
    user = UserFactory()
    _many_clients(user, 1200)
    client.force_login(user)
    # 3 chunks of 500 clients: 2 queries each, plus the campaigns and the session.
    assert _queries(client, CSV) <= 12


def test_a_draft_of_a_campaign_offering_an_advance_says_it_is_answered_on_the_request(
    client, firm_user, spring_2025
):
    RefundRequestFactory(structure=_structure("EARL des Saules"))  # 2023: the 2024 advance is offered
    client.force_login(firm_user)
    row = next(r for r in client.get(PAGE).context["rows"] if r.client.name == "EARL des Saules")
    assert row.cells[0].blockers == ["aucune ligne", "avance à demander ou non, sur la demande"]
