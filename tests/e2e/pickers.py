"""Drive the structure picker (an ARIA combobox) by keyboard only, as a screen-reader user would."""

import re

from playwright.sync_api import expect


def pick_structure(page, label: str, typed: str, option: str):
    """Type into the combobox, wait for the suggestion named `option`, go down to it and press Enter."""
    box = page.get_by_role("combobox", name=label)
    box.focus()
    box.press("Control+a")
    box.press_sequentially(typed, delay=20)
    listbox = page.get_by_role("listbox", name="Structures proposées")
    expect(listbox).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    options = listbox.get_by_role("option")
    names = options.all_inner_texts()
    index = next(i for i, name in enumerate(names) if re.search(re.escape(option), name))
    for _ in range(index + 1):
        box.press("ArrowDown")
    active = listbox.get_by_role("option", selected=True)
    expect(active).to_contain_text(option)
    expect(box).to_have_attribute("aria-activedescendant", active.get_attribute("id"))
    box.press("Enter")
    expect(box).to_have_attribute("aria-expanded", "false")
    expect(listbox).to_be_hidden()
    return box
