"""The studio calls only public addresses unless its operator allows more, seen in a real browser.

An owner types the cloud's metadata address, then a GPU box on the office network, as a provider's
base URL: each is refused beside the field with the reason and the setting that would allow it, and
what they typed stays in the form. Once the operator lists the box, the same address is accepted.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from generation.models import ProviderConnection
from tests.browser.test_provider_journey import connection_card, open_providers

SETTING = "OUTBOUND_ALLOWED_PRIVATE_ADDRESSES"


def add_form(page: Page):
    return page.locator("section.card", has=page.get_by_role("heading", name="Add a provider connection"))


def fill_connection(page: Page, *, kind: str, label: str, base_url: str, api_key: str = "") -> None:
    form = add_form(page)
    form.get_by_label(re.compile(r"^Provider\b")).select_option(kind)
    form.get_by_label("Name", exact=True).fill(label)
    form.get_by_label("Base URL").fill(base_url)
    form.get_by_label("API key").fill(api_key)
    form.get_by_role("button", name="Add connection").click()


def test_an_owner_is_told_why_a_private_base_url_is_refused_and_which_setting_allows_it(
        logged_in_page, owner, team, settings):
    settings.OUTBOUND_ALLOWED_PRIVATE_ADDRESSES = []  # the production default
    page = logged_in_page(owner)
    open_providers(page, team)

    fill_connection(page, kind="openai-videos", label="Metadata", base_url="http://169.254.169.254/latest",
                    api_key="sk-not-a-key-123")
    refusal = add_form(page).get_by_role("alert")
    expect(refusal).to_have_text("169.254.169.254 is a link-local address; the studio only calls public addresses "
                                 f"unless the operator lists it in {SETTING}.")
    expect(add_form(page).get_by_label("Name", exact=True)).to_have_value("Metadata")
    expect(add_form(page).get_by_label("Base URL")).to_have_value("http://169.254.169.254/latest")

    fill_connection(page, kind="comfyui", label="Studio GPU", base_url="http://192.168.1.20:8188")
    expect(add_form(page).get_by_role("alert")).to_contain_text(
        f"192.168.1.20 is a private address; the studio only calls public addresses unless the operator lists it "
        f"in {SETTING}.")
    assert not ProviderConnection.objects.filter(label__in=["Metadata", "Studio GPU"]).exists()

    settings.OUTBOUND_ALLOWED_PRIVATE_ADDRESSES = ["192.168.1.20"]  # the operator allows the box
    fill_connection(page, kind="comfyui", label="Studio GPU", base_url="http://192.168.1.20:8188")
    expect(page.get_by_role("status")).to_contain_text("Added Studio GPU.")
    expect(connection_card(page, "Studio GPU")).to_contain_text("http://192.168.1.20:8188")
