"""Headless Chromium with a DevTools virtual authenticator, for browser tests.

Debian's Chromium is driven by Playwright (never ``playwright install``). Locally, a missing
browser skips the browser tests with the reason; in CI (``CI=true``) it fails them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

__all__ = ["CHROMIUM", "VirtualAuthenticator", "chromium_page", "require_chromium"]

CHROMIUM = Path(os.environ.get("PORTCULLIS_CHROMIUM", "/usr/bin/chromium"))
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]


def require_chromium() -> None:
    """Skip (locally) or fail (in CI) when Chromium or Playwright is missing."""
    problem = ""
    if not CHROMIUM.exists():
        problem = f"Chromium not found at {CHROMIUM}; install it with `apt-get install chromium`"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "Playwright for Python is not installed (`pip install -e '.[test]'`)"
    if problem and os.environ.get("CI"):
        pytest.fail(f"browser tests must run in CI: {problem}")
    if problem:
        pytest.skip(problem)


@dataclass
class VirtualAuthenticator:
    """A DevTools WebAuthn virtual authenticator attached to one page."""

    cdp: Any
    authenticator_id: str

    def credentials(self) -> list[dict[str, Any]]:
        """What the authenticator stores (ids in standard base64)."""
        result = self.cdp.send("WebAuthn.getCredentials",
                               {"authenticatorId": self.authenticator_id})
        return list(result["credentials"])


@contextmanager
def chromium_page() -> Iterator[tuple[Any, VirtualAuthenticator]]:
    """A fresh browser page with a platform authenticator that verifies the user (Touch ID)."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            context = browser.new_context()
            context.set_default_timeout(15_000)
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            cdp.send("WebAuthn.enable")
            added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
                "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
                "hasUserVerification": True, "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }})
            yield page, VirtualAuthenticator(cdp, added["authenticatorId"])
        finally:
            browser.close()
