"""Refund requests in a browser: the farmer files, an instructor pays, the accountant files for the farm.

The journeys use the seeded 2023 and 2024 campaigns. They run on the real date (Chromium drops cookies
computed from a travelled clock), so an autouse fixture keeps those campaigns open as an administrator
would extend them; deadlines themselves are tested with time travel in tests/reimbursements/."""

import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from accounts.demo import demo_user
from reimbursements.models import Campaign, EnergyProduct, RefundRate, RefundRequest
from structures import demo as structures_demo
from structures.models import Membership, Structure
from tests.documents import pdf_bytes
from tests.e2e.a11y import assert_accessible
from tests.e2e.pickers import pick_structure
from tests.factories import BankAccountFactory, StructureFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _campaigns_open_today():
    from datetime import date, timedelta

    Campaign.objects.filter(year__in=[2023, 2024]).update(closes_on=date.today() + timedelta(days=365))
    RefundRate.objects.filter(campaign__year__in=[2023, 2024], closes_on__isnull=False).update(
        closes_on=date.today() + timedelta(days=365)
    )


def invoice(name):
    return {"name": name, "mimeType": "application/pdf", "buffer": pdf_bytes()}


def open_requests_from_menu(page, live_server, user):
    page.goto(live_server.url)
    page.get_by_role("navigation", name="Accès au compte").get_by_role(
        "link", name="Demandes de remboursement"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Demandes de remboursement")
    assert_accessible(page)


def add_line(page, *, number, day, product, quantity, expected_amount, expected_total, then):
    page.get_by_label("Numéro de facture").fill(number)
    page.get_by_label("Date de livraison").fill(day)
    page.get_by_label("Produit").select_option(label=product)
    page.get_by_label("Quantité").fill(quantity)
    estimate = page.locator("#estimation")
    expect(estimate).to_contain_text(f"montant de la ligne : {expected_amount}")
    expect(estimate).to_contain_text(f"Total de la demande avec cette ligne : {expected_total}")
    page.get_by_label("Copie de la facture").set_input_files(invoice(f"{number}.pdf"))
    assert_accessible(page)
    page.get_by_role("button", name=then).click()


def file_request(page, advance=None):
    """`advance`: the label of the answer to the advance offered by the year, when it offers one."""
    if advance:
        page.get_by_label(advance).check()
    page.get_by_role("button", name="Déposer la demande").click()
    message = page.get_by_text(re.compile(r"Votre demande est déposée sous le numéro TIC-\d{4}-\d{6}"))
    expect(message).to_be_visible()
    assert_accessible(page)


def test_farmer_files_instructor_pays_and_accountant_files_another_year(live_server, page, browser, sign_in):
    structures_demo.seed()
    farmer, accountant = demo_user("farmer"), demo_user("accountant")
    farm = Structure.objects.get(siret=structures_demo.FARM_SIRET)
    Membership.objects.create(user=accountant, structure=farm)  # the firm's approved attachment to its client
    instructor = UserFactory(staff=True, first_name="Paul", last_name="Guillou")
    instructor.groups.add(Group.objects.get(name="Instructeurs"))

    # The farmer files a 2023 request with a GNR line and a natural gas line.
    sign_in(farmer)
    open_requests_from_menu(page, live_server, farmer)
    page.get_by_role("link", name="Saisir une demande de remboursement").click()
    expect(page.get_by_role("combobox", name="Structure")).to_have_value(f"{farm.siret} — {farm.name}")
    expect(page.get_by_role("textbox", name="Numéro PACAGE")).to_have_value("035123456")
    page.get_by_label("Année de la demande").select_option(label="2023")
    page.get_by_label("Je déclare sur l'honneur").check()
    assert_accessible(page)
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Demande de remboursement en brouillon")
    assert_accessible(page)

    page.get_by_role("link", name="Ajouter ligne de demande").click()
    add_line(
        page,
        number="GNR-2023-031",
        day="2023-03-15",
        product="Gazole non routier (GNR) (en hl)",
        quantity="120,5",
        expected_amount="1\u00a0802,68\u00a0€",
        expected_total="1\u00a0802,68\u00a0€",
        then="Valider et ajouter une nouvelle ligne",
    )
    expect(page.get_by_text("La ligne « GNR-2023-031 » est enregistrée.")).to_be_visible()
    add_line(
        page,
        number="GAZ-2023-112",
        day="2023-11-30",
        product="Gaz naturel combustible (en MWh)",
        quantity="30",
        expected_amount="234,90\u00a0€",
        expected_total="2\u00a0037,58\u00a0€",
        then="Valider et fermer",
    )
    totals = page.get_by_role("table", name="Factures de la demande et montants remboursés")
    expect(totals.get_by_role("row", name=re.compile("Total demandé"))).to_contain_text(
        "2\u00a0037,58\u00a0€"
    )
    assert_accessible(page)
    file_request(page, advance="Je ne demande pas l'avance")
    expect(page.get_by_role("heading", level=1)).to_have_text("Demande de remboursement TIC-2023-000001")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Télécharger l'accusé de dépôt (PDF)").click()
    download = download_info.value
    assert download.suggested_filename == "accuse-de-depot-TIC-2023-000001.pdf"
    with open(download.path(), "rb") as receipt:
        assert receipt.read(5) == b"%PDF-"

    # An instructor takes it in hand, then puts it in payment, in the admin.
    admin_context = browser.new_context(locale="fr-FR")
    sign_in(instructor, admin_context)
    admin = admin_context.new_page()
    admin.goto(live_server.url + "/admin/reimbursements/refundrequest/")
    assert_accessible(admin)
    admin.get_by_role("link", name="TIC-2023-000001").click()
    assert_accessible(admin)
    for status, amount in [("En cours d'instruction", None), ("Mise en paiement", "2037,58")]:
        admin.get_by_role("link", name="Instruire la demande").click()
        admin.get_by_label("Nouvel état").select_option(label=status)
        if amount:
            admin.get_by_label("Montant mis en paiement (€)").fill(amount)
        assert_accessible(admin)
        admin.get_by_role("button", name="Enregistrer la décision").click()
        expect(admin.get_by_text(f"est passée à l'état « {status} »")).to_be_visible()
    admin_context.close()

    # The farmer sees the event feed.
    page.reload()
    expect(page.get_by_text("Mise en paiement").first).to_be_visible()
    feed = page.get_by_role("table", name="Fil d'évènements de la demande")
    expect(feed.get_by_role("row")).to_have_count(4)
    expect(feed).to_contain_text("Mise à disposition")
    expect(feed).to_contain_text("Prise en charge par le service instructeur")
    expect(feed).to_contain_text("Service instructeur")
    assert_accessible(page)

    # An administrator enters the 2024 rate; the accountant files 2024 for the farm.
    RefundRate.objects.create(
        campaign=Campaign.objects.get(year=2024),
        product=EnergyProduct.objects.get(code="gnr"),
        amount=Decimal("14.96"),
        legal_reference="Code des impositions sur les biens et services, art. L.312-60",
        deliveries_until="2024-06-30",
    )
    accountant_context = browser.new_context(locale="fr-FR")
    sign_in(accountant, accountant_context)
    accountant_page = accountant_context.new_page()
    open_requests_from_menu(accountant_page, live_server, accountant)
    expect(accountant_page.get_by_role("link", name=re.compile("TIC-2023-000001"))).to_be_visible()
    accountant_page.get_by_role("link", name="Saisir une demande de remboursement").click()
    expect(accountant_page.get_by_role("combobox", name="Structure")).to_have_value(
        f"{farm.siret} — {farm.name}"
    )
    accountant_page.get_by_label("Année de la demande").select_option(label="2024")
    accountant_page.get_by_label("Je déclare sur l'honneur").check()
    accountant_page.get_by_role("button", name="Enregistrer").click()
    accountant_page.get_by_role("link", name="Ajouter ligne de demande").click()
    add_line(
        accountant_page,
        number="GNR-2024-007",
        day="2024-02-20",
        product="Gazole non routier (GNR) (en hl)",
        quantity="50",
        expected_amount="748,00\u00a0€",
        expected_total="748,00\u00a0€",
        then="Valider et fermer",
    )
    file_request(accountant_page)
    filed = RefundRequest.objects.get(campaign__year=2024)
    assert (filed.structure, filed.filed_by, filed.number) == (farm, accountant, "TIC-2024-000001")
    accountant_context.close()


def test_a_line_is_added_without_javascript(live_server, browser, sign_in):
    """axe needs JavaScript, so this journey has no accessibility check: its pages are the same HTML the
    journey above checks."""
    structures_demo.seed()
    farmer = demo_user("farmer")
    context = browser.new_context(locale="fr-FR", java_script_enabled=False)
    sign_in(farmer, context)
    page = context.new_page()
    page.goto(live_server.url + "/remboursements/nouvelle/")
    page.get_by_label("Année de la demande").select_option(label="2023")
    page.get_by_role("button", name="Enregistrer").click()
    page.get_by_role("link", name="Ajouter ligne de demande").click()
    expect(page.get_by_role("table", name="Taux de remboursement 2023")).to_contain_text("14,96 € par hl")
    page.get_by_label("Numéro de facture").fill("FIOUL-9")
    page.get_by_label("Date de livraison").fill("2023-01-09")
    page.get_by_label("Produit").select_option(label="Fioul lourd (en 100 kg)")
    page.get_by_label("Quantité").fill("2")
    page.get_by_role("button", name="Valider et fermer").click()
    expect(page.get_by_role("row", name=re.compile("FIOUL-9"))).to_contain_text("27,52\u00a0€")
    context.close()


def test_choosing_another_structure_prefills_its_header_in_place(live_server, page, sign_in):
    structures_demo.seed()
    farmer = demo_user("farmer")
    other = StructureFactory(name="EARL du Verger", pacage="022333444")
    Membership.objects.create(user=farmer, structure=other)
    sign_in(farmer)
    page.goto(live_server.url + "/remboursements/nouvelle/")
    page.get_by_label("Année de la demande").select_option(label="2023")
    # The open list of suggestions passes axe too.
    page.get_by_role("combobox", name="Structure").press_sequentially("EARL", delay=20)
    expect(page.get_by_role("listbox", name="Structures proposées")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="proposée")).to_have_count(1)
    assert_accessible(page)
    page.get_by_role("combobox", name="Structure").press("Escape")
    expect(page.get_by_role("listbox", name="Structures proposées")).to_be_hidden()
    box = pick_structure(page, "Structure", "Verger", "EARL du Verger")
    expect(page.get_by_role("textbox", name="Numéro PACAGE")).to_have_value("022333444")
    expect(box).to_have_value(f"{other.siret} — EARL du Verger")
    expect(box).to_be_focused()
    expect(page.get_by_label("Année de la demande")).to_have_value(str(Campaign.objects.get(year=2023).pk))
    assert_accessible(page)
    farm = Structure.objects.get(siret=structures_demo.FARM_SIRET)
    pick_structure(page, "Structure", farm.siret[:9], farm.name)
    expect(page.get_by_role("textbox", name="Numéro PACAGE")).to_have_value("035123456")
    expect(page.get_by_label("Références bancaires")).to_have_value(str(farm.bank_accounts.get().pk))


def test_refresh_after_choosing_a_structure_never_drops_what_the_user_chose_meanwhile(
    live_server, page, sign_in
):
    """Friction 13: the refresh is held in flight; the year chosen meanwhile is kept, the fields the
    refresh fills are locked until it lands, and a bank account the user chose is kept when it belongs to
    the structure."""
    structures_demo.seed()
    farmer = demo_user("farmer")
    farm = Structure.objects.get(siret=structures_demo.FARM_SIRET)
    second = BankAccountFactory(structure=farm, label="Compte épargne")
    other = StructureFactory(name="EARL du Verger", pacage="022333444")
    Membership.objects.create(user=farmer, structure=other)
    held = []
    page.route(
        "**/remboursements/nouvelle/",
        lambda route: held.append(route) if "hx-request" in route.request.headers else route.continue_(),
    )
    sign_in(farmer)
    page.goto(live_server.url + "/remboursements/nouvelle/")
    pick_structure(page, "Structure", "Verger", "EARL du Verger")
    expect(page.get_by_role("textbox", name="Numéro PACAGE")).to_be_disabled()
    expect(page.get_by_label("Références bancaires")).to_be_disabled()
    page.get_by_label("Année de la demande").select_option(label="2023")
    page.get_by_label("Je déclare sur l'honneur").check()
    assert len(held) == 1
    assert "campaign=" in held[0].request.post_data and "prefill=1" in held[0].request.post_data
    held.pop().continue_()
    expect(page.get_by_role("textbox", name="Numéro PACAGE")).to_have_value("022333444")
    expect(page.get_by_role("textbox", name="Numéro PACAGE")).to_be_enabled()
    expect(page.get_by_label("Année de la demande")).to_have_value(str(Campaign.objects.get(year=2023).pk))
    expect(page.get_by_label("Je déclare sur l'honneur")).to_be_checked()

    # Back to the farm, with its second account chosen while the refresh is held: the account is kept.
    pick_structure(page, "Structure", farm.siret[:9], farm.name)
    expect(page.get_by_label("Références bancaires")).to_be_disabled()
    held.pop().continue_()
    expect(page.get_by_label("Références bancaires")).to_be_enabled()
    page.get_by_label("Références bancaires").select_option(str(second.pk))
    pick_structure(page, "Structure", farm.siret[:9], farm.name)
    held.pop().continue_()
    expect(page.get_by_label("Références bancaires")).to_have_value(str(second.pk))
    expect(page.get_by_label("Année de la demande")).to_have_value(str(Campaign.objects.get(year=2023).pk))
    assert_accessible(page)

    # « Enregistrer » pressed while a refresh is in flight waits for it (locked fields are not sent).
    pick_structure(page, "Structure", farm.siret[:9], farm.name)
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Saisir une demande de remboursement")
    held.pop().continue_()
    expect(page.get_by_role("heading", level=1)).to_have_text("Demande de remboursement en brouillon")
    assert RefundRequest.objects.get().bank_account == second


def test_refund_pages_fit_a_small_screen(live_server, page, sign_in):
    structures_demo.seed()
    farmer = demo_user("farmer")
    farm = Structure.objects.get(siret=structures_demo.FARM_SIRET)
    refund_request = RefundRequest.objects.create(
        structure=farm,
        campaign=Campaign.objects.get(year=2023),
        bank_account=farm.bank_accounts.get(),
        beneficiary_category=farm.beneficiary_category,
        pacage=farm.pacage,
        created_by=farmer,
    )
    sign_in(farmer)
    page.set_viewport_size({"width": 360, "height": 740})
    for path in ["", "nouvelle/", f"{refund_request.pk}/", f"{refund_request.pk}/lignes/ajouter/"]:
        page.goto(f"{live_server.url}/remboursements/{path}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, path
        assert_accessible(page)


def test_structure_filter_works_without_javascript(live_server, browser, sign_in):
    """The combobox is a plain text field without JavaScript: an ambiguous name lists the matches next to
    the field, a SIRET filters, and the results page lists every match (no axe: it needs JavaScript)."""
    accountant = UserFactory()
    farms = [StructureFactory(name=name) for name in ["EARL des Saules", "GAEC des Saules", "SCEA du Lac"]]
    for farm in farms:
        Membership.objects.create(user=accountant, structure=farm)
    context = browser.new_context(locale="fr-FR", java_script_enabled=False)
    sign_in(accountant, context)
    page = context.new_page()
    page.goto(live_server.url + "/remboursements/")
    page.get_by_role("combobox", name="Structure").fill("saules")
    page.get_by_role("button", name="Rechercher").click()
    expect(page.get_by_text("Plusieurs structures correspondent à « saules »")).to_be_visible()
    expect(page.get_by_text(f"{farms[1].siret} — GAEC des Saules")).to_be_visible()
    page.get_by_role("combobox", name="Structure").fill(farms[1].siret)
    page.get_by_role("button", name="Rechercher").click()
    expect(page.get_by_role("combobox", name="Structure")).to_have_value(farms[1].siret)
    expect(page.get_by_text("Plusieurs structures correspondent")).to_have_count(0)
    page.goto(live_server.url + "/organisation/structures/recherche/?scope=attached&q=saules")
    expect(page.get_by_role("table", name="Structures trouvées")).to_contain_text("2 structures trouvées")
    context.close()
