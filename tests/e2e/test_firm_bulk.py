"""An accounting firm works in bulk (issue 10): its user asks to be attached to 3 client farms, their manager
approves, the user imports a 30-row file for the 3 clients, sees 2 row errors, fixes the file, imports it,
and files the three requests from « Mes clients ». Axe on every page. Runs on the real date
(see test_reimbursements.py), so the 2023 campaign is kept open as an administrator would extend it."""

import io
import re
import zipfile

import pytest
from playwright.sync_api import expect

from reimbursements.models import AdvanceOffer, Campaign, RefundRate, RefundRequest
from structures.models import BeneficiaryCategory
from tests.documents import pdf_bytes
from tests.e2e.a11y import assert_accessible
from tests.factories import BankAccountFactory, MembershipFactory, StructureFactory, UserFactory, valid_siret

pytestmark = pytest.mark.django_db(transaction=True)

HEADER = "SIRET;Année;Numéro de facture;Date de livraison;Produit;Quantité;Fichier de la facture"


@pytest.fixture(autouse=True)
def _campaign_open_today():
    from datetime import date, timedelta

    Campaign.objects.filter(year=2023).update(closes_on=date.today() + timedelta(days=365))
    RefundRate.objects.filter(campaign__year=2023, closes_on__isnull=False).update(
        closes_on=date.today() + timedelta(days=365)
    )


def rows(sirets, *, broken: bool) -> bytes:
    lines = [HEADER]
    for n in range(30):
        siret = sirets[n % 3]
        day = f"{1 + n % 28:02d}/{1 + n % 12:02d}/2023"
        lines.append(f"{siret};2023;FAC-{n:03d};{day};gnr;{100 + n},5;FAC-{n:03d}.pdf")
    if broken:
        lines[5] = lines[5].replace("/2023;gnr", "/2022;gnr")  # delivered outside the year
        lines[12] = lines[12].replace(";gnr;", ";kérosène;")  # unknown product
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def invoices() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for n in range(30):
            archive.writestr(f"FAC-{n:03d}.pdf", pdf_bytes())
    return buffer.getvalue()


def upload(page, lines: bytes):
    page.get_by_label("Fichier des lignes (CSV ou XLSX)").set_input_files(
        {"name": "lignes.csv", "mimeType": "text/csv", "buffer": lines}
    )
    page.get_by_label("Archive ZIP des copies de factures").set_input_files(
        {"name": "factures.zip", "mimeType": "application/zip", "buffer": invoices()}
    )
    page.get_by_role("button", name="Vérifier le fichier").click()
    expect(page.get_by_role("heading", name="Résultat de la vérification")).to_be_visible()
    assert_accessible(page)


def test_firm_attaches_imports_and_files_for_three_clients(
    live_server, browser, browser_context_args, sign_in
):
    # Bulk filing never answers an advance offer for the filer (tests/reimbursements/test_import.py): this
    # journey files years without one.
    AdvanceOffer.objects.all().delete()
    category = BeneficiaryCategory.objects.get(code="societe-agricole")
    manager = UserFactory(first_name="Jeanne", last_name="Lebreton")
    farms = []
    for n, name in enumerate(("GAEC des Trois Chênes", "EARL des Pommiers", "SCEA du Moulin")):
        farm = StructureFactory(name=name, siret=valid_siret(613_000 + n), beneficiary_category=category)
        MembershipFactory(user=manager, structure=farm, main_manager=True)
        BankAccountFactory(structure=farm, created_by=manager)
        farms.append(farm)
    accountant = UserFactory(first_name="Yann", last_name="Morvan")
    MembershipFactory(
        user=accountant, structure=StructureFactory(management_centre=True, name="Cabinet du Bocage")
    )
    sirets = [farm.siret for farm in farms]

    contexts = [browser.new_context(**browser_context_args) for _ in range(2)]
    try:
        firm_context, manager_context = contexts
        sign_in(accountant, browser_context=firm_context)
        sign_in(manager, browser_context=manager_context)
        firm, farmer = firm_context.new_page(), manager_context.new_page()

        # The accountant pastes the three clients' SIRETs, reads the report, and sends the three requests.
        firm.goto(live_server.url + "/rattachements/demander/")
        firm.get_by_role("link", name="Demander un rattachement à plusieurs structures à la fois").click()
        firm.get_by_label("Numéros SIRET").fill("\n".join(sirets))
        firm.get_by_role("button", name="Vérifier les numéros SIRET").click()
        expect(firm.get_by_role("status")).to_contain_text(
            "3 numéros vérifiés : 3 demandes prêtes à être envoyées"
        )
        assert_accessible(firm)
        firm.get_by_role("button", name="Soumettre").click()
        expect(firm.get_by_text("3 demandes de rattachement transmises")).to_be_visible()
        assert_accessible(firm)

        # The farms' manager approves the three requests at once.
        farmer.goto(live_server.url)
        farmer.get_by_role("link", name="Approbations 3 en attente").click()
        assert_accessible(farmer)
        for farm in farms:
            farmer.get_by_role("row", name=re.compile(farm.name)).get_by_role("checkbox").check()
        farmer.get_by_role("button", name="Approuver la sélection").click()
        expect(farmer.get_by_text("3 demandes de rattachement approuvées.")).to_be_visible()
        assert_accessible(farmer)

        # « Mes clients » shows the three farms, nothing filed yet.
        firm.goto(live_server.url)
        firm.get_by_role("navigation", name="Accès au compte").get_by_role(
            "link", name="Demandes de remboursement"
        ).click()
        firm.get_by_role("link", name="Mes clients").click()
        expect(firm.get_by_role("heading", level=1)).to_have_text("Mes clients")
        expect(firm.get_by_role("table", name=re.compile("3 clients"))).to_be_visible()
        assert_accessible(firm)

        # A 30-row file with 2 wrong rows: the check says which, and writes nothing.
        firm.get_by_role("link", name="Importer des lignes").click()
        expect(firm.get_by_role("heading", level=1)).to_have_text("Importer des lignes")
        assert_accessible(firm)
        upload(firm, rows(sirets, broken=True))
        errors = firm.get_by_role("table", name=re.compile("Lignes en erreur"))
        expect(errors.get_by_role("row")).to_have_count(3)
        expect(errors).to_contain_text(
            "La date de livraison doit être comprise dans l'année de la demande (2023)."
        )
        expect(errors).to_contain_text("Produit inconnu : « kérosène »")
        expect(firm.get_by_text("2 lignes en erreur")).to_be_visible()
        assert not RefundRequest.objects.exists()

        # The fixed file: every row is ready; import with the declaration on honour.
        firm.get_by_role("link", name="Envoyer un fichier corrigé").click()
        upload(firm, rows(sirets, broken=False))
        expect(firm.get_by_text("30 lignes prêtes à importer")).to_be_visible()
        firm.get_by_label(re.compile("Je déclare sur l'honneur que les bénéficiaires")).check()
        firm.get_by_role("button", name="Importer").click()
        expect(firm.get_by_role("heading", name="Résultat de l'import")).to_be_visible()
        expect(firm.get_by_text("30 lignes importées")).to_be_visible()
        assert_accessible(firm)

        # From « Mes clients »: three drafts with nothing blocking, filed in one action.
        firm.get_by_role("link", name="Retour à « Importer des lignes »").click()
        firm.get_by_role("link", name="Retour à « Mes clients »").click()
        for farm in farms:
            expect(firm.get_by_role("row", name=re.compile(farm.name))).to_contain_text("Brouillon")
        assert_accessible(firm)
        firm.get_by_role("button", name="Déposer les demandes complètes").click()
        expect(firm.get_by_role("heading", name="Résultat du dépôt")).to_be_visible()
        expect(firm.get_by_text("3 demandes déposées, 0 non déposée")).to_be_visible()
        assert_accessible(firm)
        firm.get_by_role("link", name="Mes clients").last.click()
        for farm in farms:
            expect(firm.get_by_role("row", name=re.compile(farm.name))).to_contain_text("Déposée")
        assert_accessible(firm)
        assert set(RefundRequest.objects.values_list("status", flat=True)) == {"filed"}

        # The same pages fit a phone's 360 px.
        firm.set_viewport_size({"width": 360, "height": 740})
        for link in ("Mes clients", "Importer des lignes"):
            if link == "Importer des lignes":
                firm.get_by_role("link", name=link).click()
            expect(firm.get_by_role("heading", level=1)).to_have_text(link)
            assert firm.evaluate("document.documentElement.scrollWidth") <= 360
            assert_accessible(firm)
    finally:
        for context in contexts:
            context.close()
