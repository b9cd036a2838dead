import re

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from playwright.sync_api import expect

from structures.models import BankAccount, Membership, Structure
from tests.conftest import S3_CONFIGURED, local_files
from tests.documents import pdf_bytes
from tests.e2e.a11y import assert_accessible
from tests.e2e.pickers import pick_structure
from tests.factories import BankAccountFactory, MembershipFactory, UserFactory, valid_siret

pytestmark = pytest.mark.django_db(transaction=True)


def heading(page):
    return page.get_by_role("heading", level=1)


def test_first_sign_in_creates_a_structure_sets_refund_information_and_bank_details(
    live_server, page, sign_in, tmp_path, settings
):
    user = sign_in(UserFactory(first_name="Jeanne", last_name="Lebreton"))
    siret = valid_siret(512345)

    # First sign-in: the two-choice window, modal, focus inside.
    page.goto(live_server.url + reverse("home"))
    dialog = page.get_by_role("dialog", name="Rattacher votre compte à une structure")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("link", name="Demander un rattachement à une structure")).to_be_visible()
    expect(dialog).to_contain_text("rattachez-vous en premier lieu à la structure de votre entreprise")
    page.wait_for_function("document.querySelector('#first-login-choice').matches(':modal')")
    assert page.evaluate("document.querySelector('#first-login-choice').matches(':modal')")
    assert_accessible(page)
    for _ in range(6):
        page.keyboard.press("Tab")
        assert page.evaluate("document.querySelector('#first-login-choice').contains(document.activeElement)")
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.querySelector('#first-login-choice').contains(document.activeElement)")
    dialog.get_by_role("link", name="Créer une structure").click()

    # Create a structure: the SIRET, then raison sociale and address.
    expect(heading(page)).to_have_text("Créer une structure")
    assert_accessible(page)
    page.get_by_role("button", name="Continuer").click()
    expect(page.get_by_text("Indiquez le numéro SIRET de la structure.")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Numéro SIRET").fill(f"{siret[:3]} {siret[3:6]} {siret[6:9]} {siret[9:]}")
    page.get_by_role("button", name="Continuer").click()
    expect(page.get_by_text("Étape 2 sur 2")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Raison sociale").fill("GAEC des Trois Chênes")
    page.get_by_label("Adresse").fill("12 route de la Vallée")
    page.get_by_label("Code postal").fill("35500")
    page.get_by_label("Commune").fill("Vitré")
    page.get_by_role("button", name="Créer la structure").click()
    expect(page.get_by_text("Vous en êtes le gestionnaire principal")).to_be_visible()
    structure = Structure.objects.get(siret=siret)
    assert Membership.objects.get(structure=structure).user == user

    # Organisation → « Gérer une structure » → « Modifier une structure » → « Identifiant ».
    page.get_by_role("link", name="Organisation", exact=True).click()
    expect(heading(page)).to_have_text("Organisation")
    assert_accessible(page)
    page.get_by_role("link", name="Gérer une structure").click()
    expect(heading(page)).to_have_text("Gérer une structure")
    expect(page.get_by_text("Informations demandes de remboursement")).to_have_count(0)
    assert_accessible(page)
    page.get_by_label("Type de demande").select_option(label="Modifier une structure")
    # Friction 12: picking the structure (by keyboard) reveals its block at once, no second button.
    pick_structure(page, "Identifiant", "Trois", "GAEC des Trois Chênes")
    block = page.get_by_role("group", name="Informations demandes de remboursement")
    expect(block).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/structures/{structure.pk}/modifier/$"))
    assert_accessible(page)
    block.get_by_label("Catégorie de bénéficiaire").select_option(
        label="Société agricole (GAEC, EARL, SCEA…)"
    )
    block.get_by_label("Numéro PACAGE").fill("99")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("Le numéro PACAGE comporte 9 chiffres.")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Numéro PACAGE").fill("035123456")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("Les informations de la structure sont enregistrées.")).to_be_visible()
    history = page.get_by_role("table", name=re.compile("Modifications de GAEC des Trois Chênes"))
    expect(history).to_contain_text("035123456")
    assert_accessible(page)
    structure.refresh_from_db()
    assert structure.pacage == "035123456"

    # « Créer une coordonnée bancaire » with a PDF copy of the RIB.
    page.get_by_role("link", name="Organisation", exact=True).click()
    page.get_by_role("link", name="Créer une coordonnée bancaire").click()
    expect(heading(page)).to_have_text("Créer une coordonnée bancaire")
    assert_accessible(page)
    rib = tmp_path / "RIB GAEC.pdf"
    rib.write_bytes(pdf_bytes())
    page.get_by_label("Libellé").fill("Compte courant")
    page.get_by_label("Titulaire du compte").fill("GAEC des Trois Chênes")
    page.get_by_role("textbox", name=re.compile("^IBAN")).fill("FR76 3000 6000 0112 3456 7890 189")
    page.get_by_label("BIC").fill("AGRIFRPP")
    page.get_by_label("Copie du RIB/IBAN").set_input_files(str(rib))
    page.get_by_role("button", name="Enregistrer").click()

    # See it in the list, masked, and download it.
    expect(heading(page)).to_have_text("Coordonnées bancaires")
    expect(page.get_by_text("La coordonnée bancaire est enregistrée.")).to_be_visible()
    table = page.get_by_role("table", name="Coordonnées bancaires de vos structures")
    expect(table).to_contain_text("•••• 0189")
    expect(table).not_to_contain_text("FR7630006")
    assert_accessible(page)
    with page.expect_download() as download_info:
        table.get_by_role("link", name=re.compile("Télécharger")).click()
    download = download_info.value
    assert download.suggested_filename == "RIB GAEC.pdf"
    with open(download.path(), "rb") as handle:
        assert handle.read() == rib.read_bytes()
    account = BankAccount.objects.get()
    assert account.structure == structure
    # Stored through the storage API: in the bucket when S3 is configured (CI), the local folder untouched.
    assert default_storage.exists(account.rib_document.name)
    if S3_CONFIGURED:
        assert local_files(settings) == []


def test_escape_closes_the_first_login_window_and_organisation_offers_the_choices_again(
    live_server, page, sign_in
):
    sign_in(UserFactory())
    page.goto(live_server.url + reverse("home"))
    dialog = page.get_by_role("dialog", name="Rattacher votre compte à une structure")
    expect(dialog).to_be_visible()
    page.wait_for_function("document.querySelector('#first-login-choice').matches(':modal')")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(heading(page)).to_be_focused()
    assert_accessible(page)
    page.get_by_role("link", name="Organisation", exact=True).click()
    expect(heading(page)).to_have_text("Organisation")
    expect(page.get_by_role("link", name="Créer une structure")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Demander un rattachement").click()
    expect(heading(page)).to_contain_text("rattachement")
    assert_accessible(page)


def test_first_login_window_is_a_plain_page_without_javascript(live_server, browser, sign_in):
    context = browser.new_context(java_script_enabled=False, locale="fr-FR")
    sign_in(UserFactory(), browser_context=context)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(live_server.url + reverse("home"))
    dialog = page.locator("#first-login-choice")
    expect(dialog).to_be_visible()
    expect(dialog).to_have_attribute("open", "")
    expect(dialog.get_by_role("link", name="Demander un rattachement à une structure")).to_be_visible()
    dialog.get_by_role("link", name="Créer une structure").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Créer une structure")
    context.close()


def test_first_login_window_without_its_script_is_accessible_in_page_content(live_server, page, sign_in):
    """axe needs JavaScript: check the no-script rendering with only our dialog script blocked."""
    sign_in(UserFactory())
    page.route(re.compile(r".*/first-login\.js$"), lambda route: route.abort())
    page.goto(live_server.url + reverse("home"))
    dialog = page.get_by_role("dialog", name="Rattacher votre compte à une structure")
    expect(dialog).to_be_visible()
    assert not page.evaluate("document.querySelector('#first-login-choice').matches(':modal')")
    assert_accessible(page)
    dialog.get_by_role("button", name="Fermer").click()
    expect(dialog).to_be_hidden()
    expect(heading(page)).to_contain_text("Remboursement de la taxe")


def test_main_manager_hands_over_the_role_on_a_small_screen(live_server, page, sign_in):
    main = MembershipFactory(main_manager=True, structure__name="EARL du Bocage")
    other = MembershipFactory(structure=main.structure, user__first_name="Paul", user__last_name="Riou")
    sign_in(main.user)
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(live_server.url + reverse("structures:index"))
    assert_accessible(page)
    page.get_by_role("link", name="Membres de EARL du Bocage").click()
    expect(heading(page)).to_have_text("Membres de la structure EARL du Bocage")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert_accessible(page)
    page.get_by_role("link", name="Confier le rôle de gestionnaire principal à Paul Riou").click()
    expect(heading(page)).to_have_text("Confier le rôle de gestionnaire principal")
    assert_accessible(page)
    page.get_by_role("button", name="Confier le rôle").click()
    expect(page.get_by_text("Paul Riou est désormais gestionnaire principal")).to_be_visible()
    assert_accessible(page)
    other.refresh_from_db()
    assert other.role == Membership.Role.MAIN_MANAGER


def test_manager_adds_and_withdraws_a_service(live_server, page, sign_in):
    main = MembershipFactory(main_manager=True, structure__name="CUMA de la Lande")
    sign_in(main.user)
    page.goto(live_server.url + reverse("structures:update", args=[main.structure.pk]))
    assert_accessible(page)
    page.get_by_role("link", name="Services de la structure").click()
    expect(heading(page)).to_have_text("Services de la structure CUMA de la Lande")
    assert_accessible(page)
    page.get_by_label("Nom du service").fill("Atelier mécanique")
    page.get_by_label("Code du service").fill("atelier méca")
    page.get_by_role("button", name="Ajouter le service").click()
    expect(page.get_by_text("Le code ne contient que des lettres")).to_be_visible()
    expect(page.get_by_label("Nom du service")).to_have_value("Atelier mécanique")
    assert_accessible(page)
    page.get_by_label("Code du service").fill("atelier")
    page.get_by_role("button", name="Ajouter le service").click()
    table = page.get_by_role("table", name="Services de CUMA de la Lande")
    expect(table).to_contain_text("ATELIER")
    assert_accessible(page)
    table.get_by_role("button", name="Retirer le service Atelier mécanique").click()
    expect(page.get_by_text("n'est plus proposé")).to_be_visible()
    expect(table).to_contain_text("Retiré")
    assert_accessible(page)


def test_organisation_pages_fit_a_small_screen(live_server, page, sign_in):
    main = MembershipFactory(main_manager=True, structure__name="SCEA des Longues Parcelles du Bocage")
    BankAccountFactory(structure=main.structure, label="Compte principal de l'exploitation")
    sign_in(main.user)
    page.set_viewport_size({"width": 360, "height": 740})
    for url in [
        reverse("structures:index"),
        reverse("structures:create"),
        reverse("structures:manage"),
        reverse("structures:update", args=[main.structure.pk]),
        reverse("structures:bank_account_list"),
        reverse("structures:bank_account_create"),
        reverse("structures:service_list", args=[main.structure.pk]),
    ]:
        page.goto(live_server.url + url)
        expect(heading(page)).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, url
        assert_accessible(page)


def test_first_login_window_opens_once_per_sign_in_then_a_notice_offers_the_choices(
    live_server, page, sign_in
):
    user = sign_in(UserFactory())
    page.goto(live_server.url + reverse("home"))
    dialog = page.get_by_role("dialog", name="Rattacher votre compte à une structure")
    expect(dialog).to_be_visible()
    page.wait_for_function("document.querySelector('#first-login-choice').matches(':modal')")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # Back on the home page in the same session: no window, the header is usable, a notice offers the choices.
    page.get_by_role("link", name="Organisation", exact=True).click()
    page.get_by_role("banner").get_by_role("link", name=re.compile("énergie agricole")).click()
    expect(heading(page)).to_contain_text("Remboursement de la taxe")
    expect(page.locator("#first-login-choice")).to_have_count(0)
    notice = page.get_by_role("region", name="Rattacher votre compte à une structure")
    expect(notice).to_be_visible()
    expect(notice.get_by_role("link", name="Créer une structure")).to_be_visible()
    assert_accessible(page)
    notice.get_by_role("link", name="Demander un rattachement à une structure").click()
    expect(heading(page)).to_contain_text("rattachement")

    # A new sign-in opens the window again.
    page.context.clear_cookies()
    sign_in(user)
    page.goto(live_server.url + reverse("home"))
    expect(dialog).to_be_visible()
    expect(page.get_by_role("region", name="Rattacher votre compte à une structure")).to_have_count(0)
