"""The menu under the user's name: a disclosure button with the keyboard, and a <details> without JavaScript."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.e2e.a11y import assert_accessible
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db(transaction=True)


def focused(page) -> str:
    return page.evaluate("document.activeElement.textContent.trim()")


def test_user_menu_is_a_disclosure_button_driven_by_the_keyboard(live_server, page, sign_in):
    user = sign_in(MembershipFactory(user__first_name="Jeanne", user__last_name="Lebreton").user)
    page.goto(live_server.url + reverse("home"))
    header = page.get_by_role("navigation", name="Accès au compte")
    button = header.get_by_role("button", name="Jeanne Lebreton", exact=True)
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(button).to_have_attribute("aria-controls", "menu-compte")
    my_account = header.get_by_role("link", name="Mon compte")
    expect(my_account).to_be_hidden()
    assert_accessible(page)

    # Tab to the button, open it with Enter: the state is announced, the links follow in the tab order.
    for _ in range(30):
        page.keyboard.press("Tab")
        if focused(page) == user.get_full_name():
            break
    expect(button).to_be_focused()
    page.keyboard.press("Enter")
    expect(button).to_have_attribute("aria-expanded", "true")
    expect(my_account).to_be_visible()
    assert_accessible(page)
    page.keyboard.press("Tab")
    expect(my_account).to_be_focused()

    # Escape closes it and gives focus back to the button.
    page.keyboard.press("Escape")
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(my_account).to_be_hidden()
    expect(button).to_be_focused()

    # Space opens it again; a click elsewhere closes it.
    page.keyboard.press("Space")
    expect(my_account).to_be_visible()
    page.get_by_role("heading", level=1).click()
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(my_account).to_be_hidden()

    # Tabbing out past the last item closes it too.
    button.focus()
    page.keyboard.press("Enter")
    header.get_by_role("button", name="Se déconnecter").focus()
    page.keyboard.press("Tab")
    expect(my_account).to_be_hidden()

    # Enter on a link follows it.
    button.focus()
    page.keyboard.press("Enter")
    my_account.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon compte")


def test_user_menu_works_without_javascript(live_server, browser, sign_in):
    context = browser.new_context(java_script_enabled=False, locale="fr-FR")
    sign_in(
        MembershipFactory(user__first_name="Jeanne", user__last_name="Lebreton").user, browser_context=context
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(live_server.url + reverse("home"))
    header = page.get_by_role("navigation", name="Accès au compte")
    expect(header.get_by_role("link", name="Mes rattachements")).to_be_hidden()
    header.get_by_text("Jeanne Lebreton").click()
    header.get_by_role("link", name="Mes rattachements").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes rattachements")
    context.close()
