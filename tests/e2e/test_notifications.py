"""« Mon compte » → « Notifications »: a farmer switches a kind of reminder off, then unsubscribes from
another one with the link of a reminder mail, in a browser that is not signed in."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from notifications.models import Kind, OptOut
from notifications.services import reminders_send_due
from tests.e2e.a11y import assert_accessible
from tests.factories import MembershipFactory
from tests.mails import mailed_path
from tests.notifications.conftest import CLOSES

pytestmark = pytest.mark.django_db(transaction=True)


def test_farmer_chooses_notifications_then_unsubscribes_in_one_click(
    live_server, page, browser, sign_in, settings
):
    settings.SITE_URL = live_server.url
    farmer = sign_in(
        MembershipFactory(
            main_manager=True,
            structure__name="GAEC des Tilleuls",
            user__first_name="Anne",
            user__last_name="Guérin",
        ).user
    )
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(live_server.url)
    header = page.get_by_role("navigation", name="Accès au compte")
    header.get_by_role("button", name="Anne Guérin", exact=True).click()
    header.get_by_role("link", name="Mon compte").click()
    page.get_by_role("navigation", name="Mon compte").get_by_role("link", name="Notifications").click()

    expect(page.get_by_role("heading", level=2)).to_have_text("Notifications")
    boxes = page.get_by_role("group", name="Rappels reçus par courriel").get_by_role("checkbox")
    expect(boxes).to_have_count(len(Kind.values))
    for n in range(len(Kind.values)):
        expect(boxes.nth(n)).to_be_checked()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert_accessible(page)

    page.get_by_label("Ouverture d'une campagne de dépôt").uncheck()
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("Vos choix de notifications sont enregistrés.")).to_be_visible()
    expect(page.get_by_label("Ouverture d'une campagne de dépôt")).not_to_be_checked()
    expect(page.get_by_label("Clôture prochaine d'une campagne sans demande déposée")).to_be_checked()
    assert_accessible(page)

    # 30 days before the 2023 campaign closes, the farm has filed nothing: a reminder is mailed.
    reminders_send_due(today=CLOSES - timedelta(days=30))
    link = mailed_path("/notifications/desabonnement/")

    anonymous = browser.new_context(locale="fr-FR")
    try:
        visitor = anonymous.new_page()
        visitor.goto(live_server.url + link)
        expect(visitor.get_by_role("heading", level=1)).to_have_text("Se désabonner des rappels")
        expect(visitor.get_by_text("Clôture prochaine d'une campagne sans demande déposée")).to_be_visible()
        assert_accessible(visitor)
        visitor.get_by_role("button", name="Me désabonner").click()
        expect(visitor.get_by_role("heading", level=1)).to_have_text("Désabonnement enregistré")
        assert_accessible(visitor)

        visitor.goto(live_server.url + link[:-3] + "xx/")
        expect(visitor.get_by_role("heading", level=1)).to_have_text(
            "Ce lien de désabonnement ne peut pas être utilisé"
        )
        assert_accessible(visitor)
    finally:
        anonymous.close()

    page.reload()
    expect(page.get_by_label("Clôture prochaine d'une campagne sans demande déposée")).not_to_be_checked()
    assert set(OptOut.objects.filter(user=farmer).values_list("kind", flat=True)) == {
        Kind.CAMPAIGN_OPEN,
        Kind.CAMPAIGN_CLOSING,
    }
