"""English pages show no Chinese in the interface (design.md: "English is complete").

Every console and portal page is rendered in English, as each demo role, over the demo department. A
page may show Chinese only where it shows what people wrote or named — ticket subjects, messages,
customer and staff names, addresses: the data. So the test collects every Chinese run of characters in
a page's visible text and attributes and checks each against two lists built from the database:

* **reference data** (statuses, categories, custom-field labels and choices, teams, skills, segments,
  tags): a run equal to one of their Chinese names is a label the page failed to show in English;
* **content** (every text column of every other kefu table): any other run must be part of it, or it is
  interface text that was never translated.

Text inside an element marked with another language (``lang="zh-hans"`` — the language switcher's
"简体中文") is not English interface text and is skipped. Every URL pattern of the console and the portal
must be visited here or be listed in ``NOT_PAGES`` with the reason, so a new page cannot slip past.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.utils import translation

from kefu.accounts.enums import Role
from kefu.accounts.models import Skill, Team, User
from kefu.customers.enums import ImportMode
from kefu.customers.import_jobs import import_job_create
from kefu.customers.importing import import_job_run
from kefu.customers.models import Customer, ImportJob, Segment
from kefu.customers.tests.test_import import HEADERS, template_row, write_csv
from kefu.demo import demo_logins, seed_demo
from kefu.tickets.access import visible_tickets
from kefu.tickets.enums import StatusCategory
from kefu.tickets.models import Category, CustomField, Status, Tag, Ticket

pytestmark = pytest.mark.django_db

# Ideographs, CJK punctuation (、。「」), full-width forms (，：（）) — what an English page must not show.
CJK = re.compile(
    r"[\u2e80-\u2fff\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]+"
)
REFERENCE_MODELS: tuple[type[models.Model], ...] = (Category, CustomField, Status, Tag, Skill, Team, Segment)
SHOWN_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt", "label"}
# URL names that are not pages to read: (reason) — everything else must be visited below.
NOT_PAGES = {
    "logout": "POST only",
    "set-availability": "POST only",
    "set_language": "POST only",
    "ticket-bulk": "POST only",
    "ticket-view-create": "POST only",
    "ticket-view-delete": "POST only",
    "ticket-action": "POST only",
    "ticket-draft": "POST only",
    "notification-read": "POST only",
    "notification-read-all": "POST only",
    "ticket-problem": "POST only",
    "ticket-attachment": "a file download",
    "portal-ticket-action": "POST only",
    "portal-ticket-attachment": "a file download",
    "customer-add-note": "POST only",
    "customer-mark-contacted": "POST only",
    "ticket-reveal-phone": "POST only (a GET goes back to the ticket page)",
    "contact-reveal-phone": "POST only (a GET goes back to the customer page; English: customers/tests/test_views_reveal.py)",
    "customer-export": "a spreadsheet download",
    "healthz": "JSON for load balancers",
    "api-docs": "a redirect to the API documentation",
}


class _Interface(HTMLParser):
    """The text a reader sees (and hears from a screen reader): text nodes and shown attributes, without
    scripts, styles, hidden inputs, option values, or elements in another language."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pieces: list[str] = []
        self._stack: list[tuple[str, bool]] = []  # (tag, skipped)

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}

    def _skipping(self) -> bool:
        return any(skipped for _tag, skipped in self._stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        lang = values.get("lang")
        skipped = tag in ("script", "style") or bool(lang and not lang.startswith("en") and tag != "html")
        if not skipped and not self._skipping():
            for name, value in attrs:
                if value and (name in SHOWN_ATTRIBUTES or (name == "value" and tag == "button")):
                    self.pieces.append(value)
            if (
                tag == "input"
                and values.get("type") not in ("hidden", "checkbox", "radio")
                and values.get("value")
            ):
                self.pieces.append(values["value"] or "")
        if tag not in self.VOID:
            self._stack.append((tag, skipped))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self._stack) - 1, -1, -1):
            if self._stack[index][0] == tag:
                del self._stack[index:]
                return

    def handle_data(self, data: str) -> None:
        if not self._skipping() and data.strip():
            self.pieces.append(data)


def interface_runs(html: str) -> list[str]:
    parser = _Interface()
    parser.feed(html)
    return [run for piece in parser.pieces for run in CJK.findall(piece)]


def reference_names() -> set[str]:
    names: set[str] = set()
    for model in (Category, Status, Tag, Skill, Team, Segment):
        names.update(model._default_manager.values_list("name", flat=True))
    names.update(Team.objects.exclude(description="").values_list("description", flat=True))
    for label, choices in CustomField.objects.values_list("label", "choices"):
        names.add(label)
        names.update(str(c) for c in choices or [])
    return {name for name in names if CJK.search(name)}


class Content:
    """Every text people wrote or named, outside the reference data: a run shown on a page must be a
    part of it."""

    def __init__(self) -> None:
        texts: list[str] = []
        for model in apps.get_models():
            if not model.__module__.startswith("kefu.") or model in REFERENCE_MODELS:
                continue
            columns = [
                f.attname
                for f in model._meta.concrete_fields
                if isinstance(f, models.CharField | models.TextField | models.JSONField)
            ]
            for row in model._default_manager.values_list(*columns) if columns else []:
                texts.extend(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False) for v in row if v)
        self.text = "\n".join(texts)
        self.runs = set(CJK.findall(self.text))

    def __contains__(self, run: str) -> bool:
        return run in self.runs or run in self.text


@pytest.fixture(scope="module")
def demo(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    """The demo department, seeded once for the module (each test then runs in its own rolled-back
    transaction on top of it) and removed afterwards."""
    with django_db_blocker.unblock():
        from django.db import transaction

        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            seed_demo(seed=20261125)
            yield
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def _client(username: str) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(User.objects.get(username=username))
    client.cookies["django_language"] = "en"
    return client


def _one(queryset: Any) -> list[Ticket]:
    ticket = queryset.order_by("-updated_at").first()
    return [ticket] if ticket is not None else []


def staff_urls(user: User) -> list[str]:
    urls = ["/", "/teams/", "/customers/", "/tickets/calls/", "/notifications/", "/notifications/bell/"]
    if user.has_perm("tickets.view_ticket"):
        urls += [f"/tickets/?queue={q}" for q in ("all", "mine", "team", "unassigned", "due_soon")]
        urls += ["/tickets/counts/", "/tickets/customers/lookup/?customer_q=KH"]
        visible = visible_tickets(user).filter(merged_into=None)
        tickets = [
            *_one(visible.filter(is_problem=True)),
            *_one(visible.exclude(problem=None)),
            *_one(visible.exclude(subtasks=None)),
            *_one(visible.exclude(tags=None).exclude(custom_fields={})),
            *_one(visible.filter(status_category=StatusCategory.RESOLVED)),
            *_one(visible.filter(status_category=StatusCategory.CLOSED)),
            *_one(visible.exclude(links_out=None)),
            *_one(visible_tickets(user).exclude(merged_into=None)),
        ]
        for ticket in tickets:
            urls += [f"/tickets/{ticket.number}/", f"/tickets/{ticket.number}/presence/"]
    if user.has_perm("tickets.add_ticket"):
        urls += ["/tickets/new/", "/tickets/new/fields/?category=delay"]
    customer = Customer.objects.exclude(tickets=None).order_by("id").first()
    if customer is not None:
        urls.append(f"/customers/{customer.public_id}/")
        if user.has_perm("customers.change_customer"):
            urls.append(f"/customers/{customer.public_id}/edit/")
        if user.has_perm("customers.add_contact"):
            urls.append(f"/customers/{customer.public_id}/contacts/new/")
        contact = customer.contacts.order_by("id").first()
        if contact is not None and user.has_perm("customers.change_contact"):
            urls.append(f"/customers/{customer.public_id}/contacts/{contact.public_id}/edit/")
    if user.has_perm("customers.add_customer"):
        urls.append("/customers/new/")
    if user.has_perm("customers.import_customers"):
        urls.append("/customers/import/")
        job = ImportJob.objects.filter(created_by=user).first()
        if job is not None:
            urls.append(f"/customers/import/{job.public_id}/")
    return urls


def portal_urls(user: User) -> list[str]:
    urls = ["/portal/", "/portal/tickets/new/", "/portal/tickets/new/fields/?category=delay"]
    urls += [f"/portal/tickets/?state={s}" for s in ("open", "resolved", "closed", "all")]
    own = Ticket.objects.filter(customer__portal_accounts__user=user, merged_into=None).order_by(
        "-updated_at"
    )
    urls += [f"/portal/tickets/{t.number}/" for t in own[:6]]
    return urls


def _check(client: Client, url: str, reference: set[str], content: Content) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    assert response.get("Content-Language") == "en", url
    found = []
    for run in interface_runs(response.content.decode()):
        if run in reference:
            found.append(f"{url}: reference data in Chinese: {run}")
        elif run not in content:
            found.append(f"{url}: untranslated interface text: {run}")
    return found


def _url_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns: list[Any], prefix: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace in ("admin",) or str(pattern.pattern).startswith("api/"):
                    continue
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern) and pattern.name:
                names.add(pattern.name)

    walk(get_resolver().url_patterns, "")
    return names


def _import_job(tmp_path: Path) -> None:
    """An import job with rejected rows, queued from an English page and run by the worker."""
    path = write_csv(
        tmp_path / "customers.csv",
        [
            HEADERS,
            template_row(customer_no="KH900001", name="甲公司", phone="13812345678"),
            template_row(customer_no="KH900002", name="乙公司", phone="110", tier="gold"),
        ],
    )
    lead = User.objects.filter(role=Role.LEAD).order_by("employee_no").first()
    assert lead is not None
    with translation.override("en"):
        job = import_job_create(
            actor=lead, upload=SimpleUploadedFile(path.name, path.read_bytes()), mode=ImportMode.VALID_ROWS
        )
    import_job_run(ImportJob.objects.get(pk=job.pk))


def test_every_page_in_english_shows_no_chinese_interface(demo: None, tmp_path: Path, settings: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    _import_job(tmp_path)
    reference = reference_names()
    content = Content()
    assert {"处理中", "咨询受理组", "冷链货物", "加急"} <= reference  # the check can see what it looks for
    problems: list[str] = []
    visited: set[str] = set()
    anonymous = Client(headers={"Accept-Language": "en"})
    problems += _check(anonymous, "/login/", reference, content)
    visited.add("login")
    for role, username in demo_logins():
        user = User.objects.get(username=username)
        client = _client(username)
        urls = portal_urls(user) if role == "customer-portal" else staff_urls(user)
        for url in urls:
            problems += _check(client, url, reference, content)
            visited.add(resolve(url.split("?")[0]).url_name or "")
    assert not sorted(set(problems)), "\n".join(sorted(set(problems)))
    missing = _url_names() - visited - set(NOT_PAGES)
    assert not missing, f"pages this test does not visit: {sorted(missing)}"


def test_form_errors_name_custom_fields_in_english(demo: None) -> None:
    _role, username = demo_logins()[0]
    client = _client(username)
    team = User.objects.get(username=username).teams.first()
    assert team is not None
    response = client.post(
        "/tickets/new/",
        {
            "subject": "Parcel late",
            "channel": "phone",
            "type": "complaint",
            "category": "delay",
            "team": team.pk,
        },
    )
    assert response.status_code == 422
    assert "“Cargo type” is required" in response.text
    reference, content = reference_names(), Content()
    runs = interface_runs(response.content.decode())
    assert not [run for run in runs if run in reference or run not in content], runs


def test_language_switcher_names_each_language_in_itself(client: Client) -> None:
    for language in ("en", "zh-hans"):
        page = client.get("/login/", headers={"Accept-Language": language}).text
        assert '<option value="en" lang="en"' in page
        assert '<option value="zh-hans" lang="zh-hans"' in page
        assert ">English</option>" in page
        assert ">简体中文</option>" in page
