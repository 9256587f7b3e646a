"""The self-hosted /docs page (Swagger UI) works under the app's CSP, with no outside request."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def test_docs_page_lists_the_api_under_the_csp(page: Page) -> None:
    page.goto("/docs")
    expect(page.get_by_text("/api/v1/differentiate").first).to_be_visible(timeout=15_000)
    expect(page.get_by_text("/api/v1/render").first).to_be_visible()
    # The page fixture fails the test on console errors (a CSP violation is one) and on
    # any request that leaves the server's origin (a CDN).
