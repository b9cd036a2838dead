import re

import pytest
from django.contrib.auth.models import Group, Permission
from django.core import mail
from django.urls import reverse
from playwright.sync_api import expect

from support.models import AssistantAnswerStat, SupportTicket
from tests.e2e.a11y import assert_accessible
from tests.factories import UserFactory
from tests.mails import mailed_path

pytestmark = pytest.mark.django_db(transaction=True)

REPLY = "Bonjour, un nouveau lien d'activation vous a été envoyé : pensez à regarder dans vos spams."


def support_agent():
    # Transactional tests flush the data migrations' rows: the group is rebuilt as the migration builds it.
    group, _ = Group.objects.get_or_create(name="Support")
    group.permissions.set(
        Permission.objects.filter(
            content_type__app_label="support",
            codename__in=["view_supportticket", "change_supportticket", "view_supportreply"],
        )
    )
    agent = UserFactory(staff=True, email="agent@chorus-agri.example", first_name="Sam", last_name="Support")
    agent.groups.add(group)
    return agent


def test_visitor_gets_help_from_claudia_then_support_answers_a_ticket(live_server, page, browser, sign_in):
    base = live_server.url
    jeanne = UserFactory(email="jeanne@example.fr", first_name="Jeanne", last_name="Lebreton")

    # The assistant, from the icon on the home page, in a dialog.
    page.goto(base)
    page.get_by_role("link", name="Besoin d'aide ? Claudia").click()
    dialog = page.get_by_role("dialog", name="Claudia, votre assistante virtuelle")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading", level=2)).to_contain_text("Bonjour, je suis Claudia")
    assert_accessible(page)
    dialog.get_by_role("link", name="Je rencontre des problèmes à la connexion").click()
    expect(dialog.get_by_role("heading", level=2)).to_have_text("Je rencontre des problèmes à la connexion")
    dialog.get_by_role("link", name="Je n'ai pas reçu le mail d'activation").click()
    heading = dialog.get_by_role("heading", level=2)
    expect(heading).to_have_text("Je n'ai pas reçu le mail d'activation")
    expect(heading).to_be_focused()
    expect(dialog).to_contain_text("valable 60 minutes")
    expect(dialog).to_contain_text("« Spams »")
    assert_accessible(page)

    dialog.get_by_role("button", name="Non").click()
    expect(dialog.get_by_role("link", name="Nous contacter")).to_be_visible()
    assert AssistantAnswerStat.objects.get(node="mail_activation").not_helpful == 1
    assert_accessible(page)

    dialog.get_by_role("link", name="Mot de passe oublié ?").click()
    expect(page).to_have_url(base + reverse("accounts:password_reset"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Mot de passe oublié ?")
    assert_accessible(page)

    # « Nous contacter » → « Envoyer un ticket », as a visitor.
    page.get_by_role("contentinfo").get_by_role("link", name="Nous contacter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nous contacter")
    assert_accessible(page)
    page.get_by_role("link", name="Envoyer un ticket").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Envoyer un ticket")
    expect(page.get_by_text("Problème de connexion", exact=True)).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Objet").fill("Courriel d'activation jamais reçu")
    page.get_by_label("Message").fill("J'ai créé mon compte hier et je n'ai reçu aucun courriel.")
    page.get_by_label("Adresse électronique de contact").fill("jeanne@example.fr")
    page.get_by_role("button", name="Envoyer le ticket").click()
    expect(page.get_by_text("Recopiez les caractères de l'image.")).to_be_visible()
    expect(page.get_by_label("Objet")).to_have_value("Courriel d'activation jamais reçu")
    assert_accessible(page)
    page.get_by_label("Recopiez les caractères de l'image").fill("passed")
    page.get_by_role("button", name="Envoyer le ticket").click()
    ticket = SupportTicket.objects.get()
    expect(page.get_by_text(f"Votre ticket n° {ticket.number} a été envoyé")).to_be_visible()
    assert_accessible(page)
    assert any(ticket.number in message.subject for message in mail.outbox)

    # The acknowledgement offers to attach the ticket to the account of the address: Jeanne does.
    page.goto(base + mailed_path("/aide/tickets/rattacher/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Rattacher le ticket à mon compte")
    assert_accessible(page)
    page.get_by_role("button", name="Rattacher le ticket à mon compte").click()
    expect(page.get_by_text(f"Le ticket n° {ticket.number} est rattaché à votre compte.")).to_be_visible()
    assert_accessible(page)

    # Support answers in the admin.
    agent_context = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris")
    sign_in(support_agent(), agent_context)
    admin = agent_context.new_page()
    admin.goto(base + reverse("admin:support_supportticket_changelist"))
    assert_accessible(admin)
    admin.get_by_role("link", name="Problème de connexion").click()
    admin.get_by_role("link", name=ticket.number).click()
    expect(admin.get_by_text("J'ai créé mon compte hier")).to_be_visible()
    assert_accessible(admin)
    admin.get_by_label("Nouvelle réponse").fill(REPLY)
    admin.get_by_role("button", name="Enregistrer", exact=True).click()
    expect(admin.locator(".messagelist")).to_contain_text("modifié")
    assert_accessible(admin)
    agent_context.close()
    ticket.refresh_from_db()
    assert ticket.status == SupportTicket.Status.IN_PROGRESS
    assert mail.outbox[-1].to == ["jeanne@example.fr"]
    assert REPLY in mail.outbox[-1].body

    # Jeanne, once signed in, reads the answer in « Mes tickets ».
    sign_in(jeanne)
    page.goto(base)
    # Jeanne is attached to no structure: close the first-login window (structures app).
    page.get_by_role("dialog", name="Rattacher votre compte à une structure").get_by_role(
        "button", name="Fermer"
    ).click()
    page.get_by_text("Jeanne Lebreton").click()
    page.get_by_role("link", name="Mes tickets").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes tickets")
    expect(page.get_by_role("row", name=re.compile(ticket.number))).to_contain_text("En cours")
    assert_accessible(page)
    page.get_by_role("link", name=ticket.number).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Ticket n° {ticket.number}")
    expect(page.get_by_text(REPLY)).to_be_visible()
    assert_accessible(page)


def test_assistant_works_as_plain_pages_without_javascript(live_server, browser):
    context = browser.new_context(java_script_enabled=False, locale="fr-FR")
    page = context.new_page()
    page.goto(live_server.url)
    page.get_by_role("link", name="Besoin d'aide ? Claudia").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Claudia, votre assistante virtuelle")
    page.get_by_role("link", name="Je rencontre des problèmes à la connexion").click()
    page.get_by_role("link", name="Je n'ai pas reçu le mail d'activation").click()
    expect(page.get_by_role("heading", level=2)).to_have_text("Je n'ai pas reçu le mail d'activation")
    page.get_by_role("button", name="Oui").click()
    expect(page.get_by_text("je suis ravie d'avoir pu vous aider")).to_be_visible()
    assert AssistantAnswerStat.objects.get(node="mail_activation").helpful == 1
    page.get_by_role("link", name="Revenir à la question précédente").click()
    expect(page.get_by_role("heading", level=2)).to_have_text("Je rencontre des problèmes à la connexion")
    context.close()


def test_dialog_keeps_focus_inside_and_closes_with_escape(live_server, page):
    page.goto(live_server.url)
    opener = page.get_by_role("link", name="Besoin d'aide ? Claudia")
    opener.click()
    dialog = page.get_by_role("dialog", name="Claudia, votre assistante virtuelle")
    expect(dialog.get_by_role("heading", level=2)).to_be_focused()
    for _ in range(12):
        page.keyboard.press("Tab")
        assert page.evaluate("document.getElementById('claudia').contains(document.activeElement)")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()


def test_assistant_dialog_and_ticket_form_fit_a_small_screen(live_server, page):
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(live_server.url + reverse("support:ticket_create"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert_accessible(page)
    page.get_by_role("link", name="Besoin d'aide ? Claudia").click()
    dialog = page.get_by_role("dialog", name="Claudia, votre assistante virtuelle")
    dialog.get_by_role("link", name="J'ai une question sur ma demande de remboursement").click()
    dialog.get_by_role("link", name="Quels produits, quels taux et quelles dates limites ?").click()
    expect(dialog.get_by_role("heading", level=2)).to_have_text(
        "Quels produits, quels taux et quelles dates limites ?"
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert_accessible(page)
