import re

import pytest
from playwright.sync_api import expect

from tests.e2e.a11y import assert_accessible

pytestmark = pytest.mark.django_db(transaction=True)


def test_visitor_reads_home_page_and_follows_header_and_footer_links(live_server, page):
    page.goto(live_server.url)
    expect(page).to_have_title(re.compile("Accueil — Chorus Agri"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Remboursement de la taxe")
    assert_accessible(page)

    page.get_by_role("navigation", name="Accès au compte").get_by_role("link", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Se connecter")
    expect(page.get_by_label("Adresse électronique de connexion")).to_be_visible()
    assert_accessible(page)

    for link, heading in [
        ("Nous contacter", "Nous contacter"),
        ("Accessibilité : partiellement conforme", "Déclaration d'accessibilité"),
        ("Mentions légales", "Mentions légales"),
    ]:
        page.get_by_role("contentinfo").get_by_role("link", name=link).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        assert_accessible(page)

    page.get_by_role("link", name=re.compile("^Chorus Agri")).click()
    expect(page).to_have_url(live_server.url + "/")


def test_skip_link_moves_focus_to_main_content(live_server, page):
    page.goto(live_server.url)
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Aller au contenu")
    expect(skip).to_be_focused()
    skip.press("Enter")
    expect(page).to_have_url(re.compile("#contenu$"))


def test_home_page_fits_a_small_screen(live_server, page):
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(live_server.url)
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= 360
    assert_accessible(page)
