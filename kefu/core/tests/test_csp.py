"""Content-Security-Policy: every HTML page — console, portal, sign-in, admin, API docs, error pages —
carries the strict policy (scripts and styles from kefu's own origin only, no framing), and no template
holds what the policy would block (an inline script, an inline event handler, a style attribute)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path

import kefu
from kefu.accounts.enums import Role
from kefu.customers.tests.factories import PortalAccountFactory, new_customer
from kefu.tickets.tests.factories import new_ticket
from kefu.urls import urlpatterns as kefu_urlpatterns

EXPECTED = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}


def _boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug")


# This module doubles as a URLconf: kefu's pages plus one view that fails, for the styled 500 page.
urlpatterns = [path("csp-test-boom/", _boom), *kefu_urlpatterns]


def directives(header: str) -> dict[str, list[str]]:
    parsed: dict[str, list[str]] = {}
    for part in header.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


def assert_strict_policy(response: Any) -> None:
    assert "Content-Security-Policy-Report-Only" not in response
    assert directives(response["Content-Security-Policy"]) == EXPECTED


@pytest.fixture
def staff(make_user: Any) -> Client:
    client = Client()
    client.force_login(make_user(Role.MANAGER))  # sees every ticket
    return client


@pytest.mark.django_db
def test_sign_in_page_has_the_policy() -> None:
    response = Client().get("/login/")
    assert response.status_code == 200
    assert_strict_policy(response)


@pytest.mark.django_db
def test_console_queue_and_ticket_page_have_the_policy(staff: Client) -> None:
    ticket = new_ticket(subject="包裹破损")
    for url in ("/", "/tickets/", f"/tickets/{ticket.number}/"):
        response = staff.get(url)
        assert response.status_code == 200, url
        assert_strict_policy(response)


@pytest.mark.django_db
def test_portal_pages_have_the_policy() -> None:
    account: Any = PortalAccountFactory(customer=new_customer(name="华东快运有限公司"))
    client = Client()
    client.force_login(account.user)
    for url in ("/portal/", "/portal/tickets/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_strict_policy(response)


@pytest.mark.django_db
def test_error_pages_have_the_policy(staff: Client) -> None:
    assert_strict_policy(staff.get("/tickets/no-such-page/"))
    client = Client(raise_request_exception=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("django.conf.settings.ROOT_URLCONF", __name__)
        response = client.get("/csp-test-boom/")
    assert response.status_code == 500
    assert_strict_policy(response)


@pytest.mark.django_db
def test_admin_keeps_the_strict_policy(make_user: Any) -> None:
    client = Client()
    client.force_login(make_user(Role.ADMIN, is_staff=True, is_superuser=True))
    response = client.get("/admin/")
    assert response.status_code == 200
    assert_strict_policy(response)


@pytest.mark.django_db
def test_api_docs_are_served_from_kefu_itself_without_inline_script(staff: Client) -> None:
    response = staff.get("/api/v1/docs")
    assert response.status_code == 200
    assert_strict_policy(response)
    html = response.content.decode()
    assert "cdn.jsdelivr.net" not in html  # the policy would block Swagger UI from a CDN
    assert "/static/ninja/swagger-ui-init.js" in html
    assert not INLINE_SCRIPT.search(html)


def test_report_only_switch_sends_the_same_policy_as_report_only() -> None:
    code = (
        "import json, django; from django.conf import settings; django.setup();"
        "print(json.dumps([getattr(settings, 'CONTENT_SECURITY_POLICY', None),"
        " settings.CONTENT_SECURITY_POLICY_REPORT_ONLY]))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "kefu.settings",
        "KEFU_CSP_REPORT_ONLY": "true",
        "KEFU_CSP_REPORT_URI": "/csp-reports",
    }
    out = subprocess.run(  # noqa: S603 - the test's own code
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    enforced, report_only = json.loads(out.stdout)
    assert enforced is None
    assert report_only["DIRECTIVES"] == {**EXPECTED, "report-uri": ["/csp-reports"]}


# --- templates: nothing the policy would block -----------------------------------------------------
TEMPLATES = sorted(Path(kefu.__file__).parent.glob("**/templates/**/*.html"))
# <script> without src (a JSON data block is not executed and is allowed); nonce'd scripts would pass.
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*\bnonce=)(?![^>]*type=\"application/json\")[^>]*>")
EVENT_HANDLER = re.compile(r"<[a-zA-Z][^>]*\son[a-z]+\s*=", re.DOTALL)
STYLE = re.compile(r"<style\b|<[a-zA-Z][^>]*\sstyle\s*=", re.DOTALL)


def test_templates_are_found() -> None:
    assert len(TEMPLATES) > 30


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(Path(kefu.__file__).parent)))
def test_template_has_no_inline_script_handler_or_style(template: Path) -> None:
    html = re.sub(r"{#.*?#}", "", template.read_text(), flags=re.DOTALL)  # comments are not rendered
    assert not INLINE_SCRIPT.search(html), "inline <script>: move it to kefu/static/kefu/"
    assert not EVENT_HANDLER.search(html), "inline event handler: add a listener in kefu/static/kefu/"
    assert not STYLE.search(html), "style attribute or <style>: move the rules into kefu.css"
