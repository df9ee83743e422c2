"""Real-browser tests: Playwright driving Debian's Chromium against pytest-django's ``live_server``.

One Chromium per session, one fresh browser context (cookies, storage) per ``new_page()``. Chromium is
never downloaded (``playwright install`` cannot reach the internet here): the tests use
``/usr/bin/chromium``. When it is missing the tests FAIL under ``CI=true`` and are skipped locally; either
way the root conftest prints a "BROWSER TESTS DID NOT RUN" banner in the terminal summary.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest

from kefu.accounts.tests.factories import PASSWORD

# Playwright's sync API keeps an asyncio loop running in this thread; Django refuses ORM calls from a
# thread with a running loop unless told that this is deliberate.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
NOT_RUN_BANNER = "BROWSER TESTS DID NOT RUN: /usr/bin/chromium missing"
# Without these Chromium keeps trying to reach Google services (no internet here) and floods the log.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 10_000


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        message = f"{NOT_RUN_BANNER} (apt-get install chromium)"
        if _in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(autouse=True)
def _migrated_data(transactional_db: None) -> None:
    """Live-server tests run on a database that transactional tests flush (some without recreating
    permissions): put back what migrations wrote — content types, permissions, role groups, skills,
    segments and the ticket categories, statuses and category fields."""
    import importlib

    from django.apps import apps
    from django.contrib.auth.models import Group, Permission
    from django.core.management.sql import emit_post_migrate_signal

    from kefu.accounts.roles import ROLE_PERMISSIONS

    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set(
            [
                Permission.objects.get(content_type__app_label=p.split(".")[0], codename=p.split(".")[1])
                for p in perms
            ]
        )
    importlib.import_module("kefu.customers.migrations.0002_reference_skills_segments").seed(apps, None)
    importlib.import_module("kefu.tickets.migrations.0002_reference_data").seed_reference(apps)
    importlib.import_module("kefu.tickets.migrations.0008_bilingual_tags_and_choices").seed_choice_names(apps)


@pytest.fixture(autouse=True)
def _media_root(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


# Every page runs under kefu's Content-Security-Policy; a violation (an inline script or handler, a style
# attribute, eval, a foreign host) is reported on the console and fails the test that caused it.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (e) {
  console.error("CSP violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "inline") +
                " at " + e.sourceFile + ":" + e.lineNumber + " " + (e.sample || ""));
});
"""


def _is_csp_violation(text: str) -> bool:
    return text.startswith("CSP violation:") or "Content Security Policy" in text


@pytest.fixture
def new_page(browser: Any, live_server: Any) -> Iterator[Callable[..., Any]]:
    """``new_page()`` → a page in its own browser context (its own session), based at the live server."""
    contexts: list[Any] = []
    violations: list[str] = []

    def record_violation(message: Any) -> None:
        if _is_csp_violation(message.text):
            violations.append(f"{message.page.url if message.page else ''}: {message.text}")

    def make(locale: str = "zh-CN") -> Any:
        context = browser.new_context(
            base_url=live_server.url, locale=locale, viewport={"width": 1280, "height": 900}
        )
        context.set_default_timeout(TIMEOUT_MS)
        context.add_init_script(REPORT_CSP_VIOLATIONS)
        context.on("console", record_violation)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
    assert not violations, "Content-Security-Policy violations:\n" + "\n".join(violations)


@pytest.fixture
def page(new_page: Callable[..., Any]) -> Any:
    return new_page()


@pytest.fixture
def log_in() -> Callable[..., None]:
    """``log_in(page, user)``: sign in through the login form, as a person would."""

    def do(page: Any, user: Any, password: str = PASSWORD) -> None:
        page.goto("/login/")
        page.locator("input[name=username]").fill(user.username)
        page.locator("input[name=password]").fill(password)
        page.locator("form button[type=submit]").click()
        page.wait_for_url(lambda url: "/login/" not in url)

    return do


@pytest.fixture
def run_worker() -> Callable[[], None]:
    """``run_worker()``: run every queued task with the real django-tasks database worker, then return."""
    return _run_worker


def _run_worker() -> None:
    from django.core.management import call_command

    # The worker installs its own SIGINT/SIGTERM handlers; put pytest's back afterwards.
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    try:
        call_command(
            "db_worker",
            batch=True,
            reload=False,
            startup_delay=False,
            queue_name="*",
            verbosity=0,
            stdout=StringIO(),
        )
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
