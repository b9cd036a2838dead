"""Farmer A creates a farm (and manages a second structure); accountant B creates the firm's structure and
asks to be attached to both. A approves one from « Approbations » and refuses the other with a reason;
B follows it all in « Mes rattachements » and « Historique de mes demandes ». Two browser contexts."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.e2e.a11y import assert_accessible
from tests.factories import (
    AttachmentRequestFactory,
    MembershipFactory,
    StructureFactory,
    UserFactory,
    valid_siret,
)

pytestmark = pytest.mark.django_db(transaction=True)


def follow_user_menu(page, user, link):
    """The menu under the user's name, in the header."""
    header = page.get_by_role("navigation", name="Accès au compte")
    header.get_by_role("button", name=user.get_full_name()).click()
    header.get_by_role("link", name=link).click()


@pytest.fixture
def two_contexts(browser, browser_context_args):
    """One browser context per person, closed even when the journey fails."""
    contexts = [browser.new_context(**browser_context_args) for _ in range(2)]
    yield contexts
    for context in contexts:
        context.close()


def create_structure(page, live_server, *, siret, name):
    """The first-login window → « Créer une structure »: the SIRET, then raison sociale and address."""
    page.goto(live_server.url)
    dialog = page.get_by_role("dialog", name="Rattacher votre compte à une structure")
    assert_accessible(page)
    dialog.get_by_role("link", name="Créer une structure").click()
    page.get_by_label("Numéro SIRET").fill(siret)
    page.get_by_role("button", name="Continuer").click()
    page.get_by_label("Raison sociale").fill(name)
    page.get_by_label("Adresse").fill("12 route de la Vallée")
    page.get_by_label("Code postal").fill("35500")
    page.get_by_label("Commune").fill("Vitré")
    assert_accessible(page)
    page.get_by_role("button", name="Créer la structure").click()
    expect(page.get_by_text("Vous en êtes le gestionnaire principal")).to_be_visible()
    assert_accessible(page)


def test_accountant_asks_farmer_approves_then_refuses_with_a_reason(live_server, two_contexts, sign_in):
    farmer = UserFactory(first_name="Jeanne", last_name="Lebreton")
    accountant = UserFactory(first_name="Yann", last_name="Morvan")
    farm_siret = valid_siret(512345)
    context_a, context_b = two_contexts
    sign_in(farmer, browser_context=context_a)
    sign_in(accountant, browser_context=context_b)
    page_a = context_a.new_page()
    page_b = context_b.new_page()
    for page in (page_a, page_b):
        page.set_default_timeout(10_000)

    # A creates the farm; B creates the accounting firm's structure.
    create_structure(page_a, live_server, siret=farm_siret, name="GAEC des Trois Chênes")
    create_structure(page_b, live_server, siret=valid_siret(523456), name="Cabinet du Bocage")
    orchard = StructureFactory(name="EARL des Pommiers", created_by=farmer)
    MembershipFactory(user=farmer, structure=orchard, main_manager=True)

    # B asks to be attached to A's farm, from « Mes rattachements ».
    page_b.goto(live_server.url)
    follow_user_menu(page_b, accountant, "Mes rattachements")
    expect(page_b.get_by_role("heading", level=1)).to_have_text("Mes rattachements")
    expect(page_b.get_by_role("cell", name="Cabinet du Bocage")).to_be_visible()
    assert_accessible(page_b)
    page_b.get_by_role("link", name="Demander un rattachement").click()
    expect(page_b.get_by_role("heading", level=1)).to_have_text("Demande de rattachement à une structure")
    assert_accessible(page_b)
    page_b.get_by_label("Libellé de la structure").fill(farm_siret)
    page_b.get_by_role("button", name="Afficher les services de la structure").click()
    expect(page_b.get_by_role("status").filter(has_text="Structure trouvée")).to_contain_text(
        "GAEC des Trois Chênes"
    )
    assert_accessible(page_b)
    page_b.get_by_label("Commentaire").fill("Cabinet du Bocage : nous déposerons vos demandes.")
    page_b.get_by_role("button", name="Soumettre").click()
    expect(page_b.get_by_role("heading", level=1)).to_have_text("Mes rattachements")
    expect(page_b.get_by_text("a été transmise au gestionnaire de la structure")).to_be_visible()
    assert_accessible(page_b)

    # A sees the badge at 1, opens « Approbations » and approves.
    page_a.goto(live_server.url)
    approvals = page_a.get_by_role("link", name="Approbations 1 en attente")
    expect(approvals).to_be_visible()
    assert_accessible(page_a)
    approvals.click()
    expect(page_a.get_by_role("heading", level=1)).to_have_text("Approbations")
    row = page_a.get_by_role("row", name=re.compile("Yann Morvan"))
    expect(row).to_contain_text("GAEC des Trois Chênes")
    expect(row).to_contain_text("À traiter")
    assert_accessible(page_a)
    row.get_by_role("link", name=re.compile("Demande de rattachement de Yann Morvan")).click()
    expect(page_a.get_by_text("Jeanne Lebreton (vous-même)")).to_be_visible()
    expect(page_a.get_by_text("Cabinet du Bocage : nous déposerons vos demandes.")).to_be_visible()
    assert_accessible(page_a)
    page_a.get_by_role("button", name="Approuver").click()
    expect(page_a.get_by_text("Demande approuvée")).to_be_visible()
    expect(page_a.get_by_role("link", name="Approbations 0 en attente")).to_be_visible()
    assert_accessible(page_a)

    # B now finds the farm among their attachments, then asks for A's second structure.
    page_b.reload()
    expect(page_b.get_by_role("cell", name="GAEC des Trois Chênes")).to_be_visible()
    assert_accessible(page_b)
    page_b.get_by_role("link", name="Demander un rattachement").click()
    page_b.get_by_label("Libellé de la structure").fill(orchard.siret)
    page_b.get_by_role("button", name="Soumettre").click()
    expect(page_b.get_by_text("a été transmise au gestionnaire de la structure")).to_be_visible()
    follow_user_menu(page_b, accountant, "Historique de mes demandes")
    expect(page_b.get_by_role("heading", level=1)).to_have_text("Historique de mes demandes")
    assert_accessible(page_b)
    page_b.get_by_role("link", name="Demande de rattachement de Yann Morvan à EARL des Pommiers").click()
    expect(page_b.get_by_text("Jeanne Lebreton (gestionnaire principal de la structure)")).to_be_visible()
    assert_accessible(page_b)

    # A refuses it with a reason.
    page_a.reload()
    page_a.get_by_role("link", name="Approbations 1 en attente").click()
    page_a.get_by_role("link", name=re.compile("EARL des Pommiers")).click()
    page_a.get_by_role("button", name="Refuser").click()
    expect(page_a.get_by_text("Indiquez le motif du refus : il est transmis au demandeur.")).to_be_visible()
    assert_accessible(page_a)
    page_a.get_by_label("Motif du refus").fill("Nos comptes de l'EARL sont tenus par un autre cabinet.")
    page_a.get_by_role("button", name="Refuser").click()
    expect(page_a.get_by_text("Demande refusée")).to_be_visible()
    page_a.get_by_label("État").select_option("traitees")
    page_a.get_by_role("button", name="Filtrer").click()
    expect(page_a.get_by_role("row", name=re.compile("EARL des Pommiers"))).to_contain_text("Refusée")
    assert_accessible(page_a)

    # B reads the refusal, its reason and the « Approbateur » in the history.
    page_b.get_by_role("link", name="Retour à l'historique de mes demandes").click()
    expect(page_b.get_by_role("row", name=re.compile("EARL des Pommiers"))).to_contain_text("Refusée")
    page_b.get_by_role("link", name="Demande de rattachement de Yann Morvan à EARL des Pommiers").click()
    summary = page_b.locator("dl.fr-summary")
    expect(summary).to_contain_text("Approbateur")
    expect(summary).to_contain_text("Jeanne Lebreton")
    expect(summary).to_contain_text("Nos comptes de l'EARL sont tenus par un autre cabinet.")
    assert_accessible(page_b)


def test_manager_approves_several_requests_at_once_on_a_small_screen(live_server, page, sign_in):
    manager = UserFactory(first_name="Jeanne", last_name="Lebreton")
    farm = StructureFactory(name="Groupement agricole d'exploitation en commun des Trois Chênes")
    MembershipFactory(user=manager, structure=farm, main_manager=True)
    requesters = [UserFactory(first_name="Anne", last_name=f"Comptable{n}") for n in range(3)]
    for requester in requesters:
        AttachmentRequestFactory(requester=requester, structure=farm)
    sign_in(manager)
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(live_server.url + reverse("attachments:approval_list"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert_accessible(page)
    for requester in requesters[:2]:
        page.get_by_label(f"Sélectionner la demande de {requester.get_full_name()}").check()
    page.get_by_role("button", name="Approuver la sélection").click()
    expect(page.get_by_text("2 demandes de rattachement approuvées.")).to_be_visible()
    expect(page.get_by_role("link", name="Approbations 1 en attente")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("Comptable2"))).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert_accessible(page)


def test_firm_pastes_three_sirets_checks_them_and_submits(live_server, page, sign_in):
    """Issue 10 item 3: an accountant pastes 3 SIRETs (one mistyped), reads the report, « Soumettre »."""
    from attachments.models import AttachmentRequest
    from chorus.outbox.models import OutboxMail

    accountant = UserFactory(first_name="Yann", last_name="Morvan")
    MembershipFactory(user=accountant, structure=StructureFactory(management_centre=True), main_manager=True)
    manager = UserFactory()
    farms = [StructureFactory(name=name) for name in ["GAEC du Lac", "EARL des Prés", "SCEA du Val"]]
    for farm in farms:
        MembershipFactory(user=manager, structure=farm, main_manager=True)
    sign_in(accountant)
    page.goto(live_server.url + reverse("attachments:request_create"))
    page.get_by_role("link", name="Demander un rattachement à plusieurs structures à la fois").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Demander un rattachement à plusieurs structures"
    )
    assert_accessible(page)
    mistyped = farms[2].siret[:-1] + str((int(farms[2].siret[-1]) + 1) % 10)
    page.get_by_label("Numéros SIRET").fill(
        f"{farms[0].siret}\n{farms[1].siret[:9]} {farms[1].siret[9:]}\n{mistyped}"
    )
    page.get_by_label("Commentaire").fill("Cabinet Morvan, vos comptes.")
    page.get_by_role("button", name="Vérifier les numéros SIRET").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Vérification des numéros SIRET")
    expect(page.get_by_role("status")).to_contain_text(
        "3 numéros vérifiés : 2 demandes prêtes à être envoyées"
    )
    table = page.get_by_role("table", name="Résultat de la vérification")
    expect(table.get_by_role("row", name=re.compile(mistyped))).to_contain_text("Numéro SIRET invalide")
    expect(table).to_contain_text("EARL des Prés")
    assert_accessible(page)
    assert not AttachmentRequest.objects.exists()
    page.get_by_role("button", name="Soumettre").click()
    expect(page.get_by_text("2 demandes de rattachement transmises")).to_be_visible()
    assert_accessible(page)
    assert set(AttachmentRequest.objects.values_list("structure__name", flat=True)) == {
        "GAEC du Lac",
        "EARL des Prés",
    }
    assert OutboxMail.objects.filter(recipients=[manager.email]).count() == 1
