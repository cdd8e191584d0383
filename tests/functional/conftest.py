"""Drive a real Chromium against pytest-django's live server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache

from tests.conftest import IN_CI

# Playwright's sync API runs an event loop in this thread; Django's async-safety check
# would otherwise refuse the ORM calls the tests make to set up their data.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
# WhiteNoise warns (an error under filterwarnings) when STATIC_ROOT is missing, and the
# session-scoped live server loads it before any function-scoped fixture could help.
Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Launch the system Chromium once per session (Playwright cannot download one here)."""
    if not CHROMIUM.exists():
        message = f"browser tests need Chromium at {CHROMIUM}"
        if IN_CI:
            pytest.fail(f"CI=true: {message}")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """Open a fresh browser context (no cookies) and page for one test."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


@pytest.fixture(autouse=True)
def _forget_failures() -> Iterator[None]:
    """Forget sign-in failures between tests (the live server shares this process's cache)."""
    cache.clear()
    yield
    cache.clear()
