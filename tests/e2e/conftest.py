"""Browser journeys: headless Chromium (Debian's, never a downloaded one) driven by Playwright's sync API against
Django's live server, with a real Celery worker consuming the real Redis broker.

The live server runs in a thread of this process, so a test reads the emails it sent from `mail.outbox` and
arranges preconditions with the ORM directly. Screenshots of the main pages (and, on failure, the failing page
with its HTML) are saved under .local/e2e-artifacts/.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Playwright's sync API keeps an asyncio loop on the main thread; Django would then refuse ORM calls from the test
# body as "async context", although they are plain synchronous calls between two browser steps.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from playwright.sync_api import Error as PlaywrightError

CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / ".local" / "e2e-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--lang=en-GB",  # date and time inputs drawn day first, 24-hour, like the pages
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 15_000


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}: `apt-get install chromium` (the e2e tests need it).")
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def browser_context(browser: Browser, live_server: Any) -> Iterator[BrowserContext]:
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.set_default_timeout(TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture
def page(request: pytest.FixtureRequest, browser_context: BrowserContext) -> Iterator[Page]:
    """A fresh tab on the live server (relative URLs work: `page.goto("/settings/api/")`)."""
    page = browser_context.new_page()
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        save_failure(page, request.node.name)
    page.close()


@pytest.fixture
def new_page(request: pytest.FixtureRequest, browser: Browser, live_server: Any) -> Iterator[Any]:
    """new_page(): a tab in a separate browser context (another person, other cookies); failures saved too."""
    contexts: list[BrowserContext] = []
    pages: list[Page] = []

    def make() -> Page:
        context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900}, locale="en-GB")
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        pages.append(context.new_page())
        return pages[-1]

    yield make
    report = getattr(request.node, "report_call", None)
    for index, other in enumerate(pages):
        if report is not None and report.failed:
            save_failure(other, f"{request.node.name}-other{index + 1}")
    for context in contexts:
        context.close()


@pytest.fixture
def e2e_world(live_server: Any, celery_worker: object) -> Any:
    """The live server and a real worker: what every journey runs against."""
    return live_server


@pytest.fixture
def reference_data(transactional_db: None) -> None:
    """What the data migrations put in a fresh database (the staff groups and their permissions, the compliance
    requirement catalogue, the platform's default fees), put back: a transactional test before this one flushed
    every table. The loaders are the migrations' own and idempotent."""
    import importlib

    from django.apps import apps

    from accounts.staff_groups import sync_staff_groups

    sync_staff_groups(apps)
    importlib.import_module("compliance.migrations.0002_requirement_catalogue").load_catalogue(apps, None)
    importlib.import_module("billing.migrations.0003_fees").create_platform_default(apps, None)


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")


def save_failure(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    stem = ARTIFACTS / f"FAILED-{_slug(name)}"
    try:
        page.screenshot(path=f"{stem}.png", full_page=True)
        Path(f"{stem}.html").write_text(f"<!-- {page.url} -->\n{page.content()}", encoding="utf-8")
    except (
        PlaywrightError,
        OSError,
    ) as error:  # the page may be gone; the failure itself matters more than its picture
        print(f"could not save the failing page {name}: {error}")


def screenshot(page: Page, name: str) -> Path:
    """A full-page screenshot of a main page, kept as an artefact (.local/e2e-artifacts/<name>.png)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{_slug(name)}.png"
    page.evaluate("window.scrollTo(0, 0)")  # the sticky header stays on top of a full-page capture
    page.screenshot(path=str(path), full_page=True)
    return path
