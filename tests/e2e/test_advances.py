"""The 2024 advance in a browser: the farmer files 2023 asking for the advance (never pre-ticked), an
instructor records « Avance versée », an administrator enters test GNR rates for 2024 on both sides of
1 July, and the farmer files 2024 with a line on each side and sees the advance deducted and the amount to
repay. axe checks every page visited."""

import re
from datetime import date, timedelta

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from accounts.demo import demo_user
from reimbursements.models import Advance, Campaign, RefundRate, RefundRequest
from structures import demo as structures_demo
from tests.e2e.a11y import assert_accessible
from tests.e2e.test_reimbursements import add_line, file_request, open_requests_from_menu
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _campaigns_open_today():
    """The journeys run on the real date: keep 2023 and 2024 open as an administrator would extend them."""
    Campaign.objects.filter(year__in=[2023, 2024]).update(
        opens_on=date.today() - timedelta(days=30), closes_on=date.today() + timedelta(days=365)
    )


def new_request(page, year):
    page.get_by_role("link", name="Saisir une demande de remboursement").click()
    page.get_by_label("Année de la demande").select_option(label=str(year))
    page.get_by_label("Je déclare sur l'honneur").check()
    assert_accessible(page)
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Demande de remboursement en brouillon")


def test_farmer_asks_for_the_advance_then_regularises_it_with_the_2024_request(
    live_server, page, browser, sign_in
):
    structures_demo.seed()
    farmer = demo_user("farmer")
    instructor = UserFactory(staff=True, first_name="Paul", last_name="Guillou")
    instructor.groups.add(Group.objects.get(name="Instructeurs"))
    administrator = UserFactory(staff=True, is_superuser=True)

    # 2023: one GNR line of 100 hl (1 496,00 €); the advance of 50 % is offered, nothing ticked.
    sign_in(farmer)
    open_requests_from_menu(page, live_server, farmer)
    expect(page.get_by_role("region", name="Calendrier des campagnes")).to_contain_text("Jours restants")
    new_request(page, 2023)
    page.get_by_role("link", name="Ajouter ligne de demande").click()
    add_line(
        page,
        number="GNR-2023-001",
        day="2023-03-15",
        product="Gazole non routier (GNR) (en hl)",
        quantity="100",
        expected_amount="1\u00a0496,00\u00a0€",
        expected_total="1\u00a0496,00\u00a0€",
        then="Valider et fermer",
    )
    advance = page.get_by_role("group", name="Avance au titre des livraisons 2024")
    expect(advance).to_contain_text("soit 748,00\u00a0€")
    expect(advance).to_contain_text("au plus tard le 31 décembre 2027")
    yes = page.get_by_label(re.compile("Je demande le versement de l'avance"))
    no = page.get_by_label("Je ne demande pas l'avance")
    expect(yes).not_to_be_checked()
    expect(no).not_to_be_checked()
    assert_accessible(page)
    page.get_by_role("button", name="Déposer la demande").click()
    expect(page.get_by_text("Indiquez si vous demandez le versement de l'avance")).to_be_visible()
    assert_accessible(page)
    file_request(page, advance=re.compile("Je demande le versement de l'avance"))
    expect(page.get_by_text("Avance demandée : 748,00\u00a0€.")).to_be_visible()
    request_2023 = RefundRequest.objects.get(campaign__year=2023)

    # The instructor takes it in hand and records the advance paid.
    admin_context = browser.new_context(locale="fr-FR")
    sign_in(instructor, admin_context)
    admin = admin_context.new_page()
    admin.goto(f"{live_server.url}/admin/reimbursements/refundrequest/{request_2023.pk}/change/")
    admin.get_by_role("link", name="Instruire la demande").click()
    admin.get_by_label("Nouvel état").select_option(label="En cours d'instruction")
    admin.get_by_role("button", name="Enregistrer la décision").click()
    admin.get_by_role("link", name="Avance versée").click()
    expect(admin.get_by_label("Montant versé (€)")).to_have_value("748.00")
    admin.get_by_label("Versée le").fill(date.today().isoformat())
    assert_accessible(admin)
    admin.get_by_role("button", name="Enregistrer l'avance versée").click()
    expect(admin.get_by_text("L'avance versée est enregistrée")).to_be_visible()
    assert_accessible(admin)
    admin_context.close()
    assert Advance.objects.get().paid_amount is not None

    page.reload()
    feed = page.get_by_role("table", name="Fil d'évènements de la demande")
    expect(feed).to_contain_text("Avance versée")
    expect(feed).to_contain_text("Avance au titre de 2024 : 748,00\u00a0€ versés le")
    assert_accessible(page)

    # An administrator enters test GNR rates for 2024, before and after 1 July (none is published).
    admin_context = browser.new_context(locale="fr-FR")
    sign_in(administrator, admin_context)
    admin = admin_context.new_page()
    admin.goto(
        f"{live_server.url}/admin/reimbursements/campaign/{Campaign.objects.get(year=2024).pk}/change/"
    )
    for index, (amount, start, end) in enumerate(
        [("14.96", "01/01/2024", "30/06/2024"), ("20.95", "01/07/2024", "")]
    ):
        admin.get_by_role("button", name=re.compile("Ajouter .*taux de remboursement", re.IGNORECASE)).click()
        admin.locator(f"[name='rates-{index}-product']").select_option(label="Gazole non routier (GNR)")
        admin.locator(f"[name='rates-{index}-amount']").fill(amount)
        admin.locator(f"[name='rates-{index}-legal_reference']").fill("Taux de test")
        admin.locator(f"[name='rates-{index}-deliveries_from']").fill(start)
        admin.locator(f"[name='rates-{index}-deliveries_until']").fill(end)
    admin.get_by_role("button", name="Enregistrer", exact=True).click()
    expect(admin.get_by_text(re.compile("a été modifié avec succès"))).to_be_visible()
    admin_context.close()
    assert RefundRate.objects.filter(campaign__year=2024).count() == 2

    # The farmer files 2024 with GNR on both sides of 1 July and sees the advance deducted.
    open_requests_from_menu(page, live_server, farmer)
    expect(page.get_by_role("region", name="Avance à régulariser")).to_contain_text(
        "748,00\u00a0€ d'avance au titre de 2024"
    )
    new_request(page, 2024)
    page.get_by_role("link", name="Ajouter ligne de demande").click()
    expect(page.get_by_role("table", name="Taux de remboursement 2024")).to_contain_text(
        "du 01/07/2024 au 31/12/2024"
    )
    add_line(
        page,
        number="GNR-2024-JUIN",
        day="2024-06-30",
        product="Gazole non routier (GNR) (en hl)",
        quantity="10",
        expected_amount="149,60\u00a0€",
        expected_total="149,60\u00a0€",
        then="Valider et ajouter une nouvelle ligne",
    )
    add_line(
        page,
        number="GNR-2024-JUIL",
        day="2024-07-01",
        product="Gazole non routier (GNR) (en hl)",
        quantity="10",
        expected_amount="209,50\u00a0€",
        expected_total="359,10\u00a0€",
        then="Valider et fermer",
    )
    balance = page.get_by_role("region", name="Avance et solde")
    expect(balance).to_contain_text("Avance perçue au titre de 2024")
    expect(balance).to_contain_text("Montant à reverser")
    expect(balance).to_contain_text("388,90\u00a0€")
    file_request(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Demande de remboursement TIC-2024-000001")
    expect(balance).to_contain_text("au plus tard le 31/12/2025")
    expect(balance).to_contain_text("déclaration de TVA de décembre 2025")
    filed = RefundRequest.objects.get(campaign__year=2024)
    assert (str(filed.total_amount), str(filed.advance_deducted), str(filed.balance)) == (
        "359.10",
        "748.00",
        "-388.90",
    )
    expect(page.get_by_role("region", name="Avance à régulariser")).to_have_count(0)

    # Claudia's advance answer reads the same data: the offer's deadlines and this farm's advance.
    page.goto(f"{live_server.url}/aide/claudia/avance_2024/")
    expect(page.get_by_role("table", name="Avances perçues par vos structures")).to_contain_text(
        "Demande 2024 déposée"
    )
    expect(page.get_by_role("table", name="Avance au titre des livraisons 2024")).to_contain_text(
        "31 décembre 2027"
    )
    assert_accessible(page)
