"""The isolation sweep: every operation of the OpenAPI schema and every console and portal URL pattern,
asked by every role for objects that role must not reach, answers 403/404 (401 or the sign-in page for
nobody), carries none of the foreign objects' data, and changes none of them.

What is foreign depends on the viewer: for a portal user, the other organisation's customer, contacts
and tickets; for an agent or a team lead, another team's ticket they have no part in; for everyone,
another user's saved view and import job. Lists and searches (object-free) must not show foreign data
either, also when searched for it.

The tables below say, for every operation and pattern, how to aim it at a foreign object — or why it
has none. A new endpoint or URL fails ``test_every_operation_and_pattern_is_in_the_sweep`` until it is
added here: that is the point.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, cast

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import Q
from django.test import Client
from django.urls import URLPattern, URLResolver
from django.utils import timezone

from kefu.accounts.enums import Role
from kefu.accounts.models import Team, User
from kefu.accounts.tests.factories import MembershipFactory, TeamFactory, UserFactory
from kefu.api import api
from kefu.core import notifications
from kefu.core.models import Notification
from kefu.customers.models import Contact, Customer, CustomerNote, ImportJob
from kefu.customers.tests.factories import PortalAccountFactory, new_contact, new_customer
from kefu.tickets import console, problem_views
from kefu.tickets import views as ticket_views
from kefu.tickets.enums import Department, Visibility
from kefu.tickets.models import Attachment, Message, ReplyDraft, SavedView, Subtask, Ticket, TicketLink
from kefu.tickets.services.merge_split_link import ticket_link
from kefu.tickets.services.problems import problem_mark
from kefu.tickets.services.work_orders import subtask_create
from kefu.tickets.tests.factories import new_message, new_ticket

ROLES = ["anonymous", "agent", "lead", "manager", "qa", "analyst", "admin", "portal_a", "portal_b"]
MARK = "ZQXJ"  # every foreign marker contains it; no other text in kefu does


# --- the world ------------------------------------------------------------------------------------


@dataclass
class Side:
    """One organisation (and one team) with everything a request can name."""

    customer: Customer
    contact: Contact
    ticket: Ticket
    other_ticket: Ticket  # linked to ``ticket``, same team
    subtask: Subtask
    attachment: Attachment
    waybill: str
    markers: list[str] = field(default_factory=list)


@dataclass
class World:
    users: dict[str, User | None]
    a: Side
    b: Side
    team_a: Team
    foreign_view: SavedView
    foreign_job: ImportJob
    foreign_notification: Notification

    def foreign(self, role: str) -> Side | None:
        """The side whose customer and tickets ``role`` must not reach (None: it may reach both)."""
        return {
            "anonymous": self.a,
            "agent": self.b,
            "lead": self.b,
            "portal_a": self.b,
            "portal_b": self.a,
        }.get(role)

    def own(self, role: str) -> Side:
        return self.b if role == "portal_b" else self.a

    def foreign_customer(self, role: str) -> bool:
        """Staff see every customer; portal users (and nobody) only their own organisation's."""
        return role in ("anonymous", "portal_a", "portal_b")


def _side(letter: str, *, team: Team, creator: User, account_agent: User) -> Side:
    tag = f"{MARK}{letter}"
    waybill = f"SF{'1' if letter == 'A' else '2'}23456789012"
    customer = new_customer(name=f"客户{tag}有限公司", account_agent=account_agent)
    contact = new_contact(customer=customer, name=f"联系人{tag}", email=f"{tag.lower()}@example.cn")
    ticket = new_ticket(
        actor=creator,
        customer=customer,
        contact=contact,
        team=team,
        subject=f"主题{tag}",
        description=f"描述{tag}",
        waybills=[waybill],
    )
    upload = SimpleUploadedFile(f"回单{tag}.txt", f"附件内容{tag}".encode(), content_type="text/plain")
    message = new_message(ticket=ticket, actor=creator, body=f"回复{tag}", attachments=[upload])
    new_message(ticket=ticket, actor=creator, body=f"内部备注{tag}", visibility=Visibility.INTERNAL)
    other = new_ticket(actor=creator, customer=customer, team=team, subject=f"关联{tag}")
    ticket_link(actor=creator, ticket=ticket, other=other)
    subtask = subtask_create(
        actor=creator,
        ticket=ticket,
        department=Department.WAREHOUSE,
        title=f"协作{tag}",
        deadline=timezone.now() + dt.timedelta(days=1),
        problem_description=f"问题{tag}",
        support_needed=f"支持{tag}",
    )
    ticket.refresh_from_db()
    return Side(
        customer=customer,
        contact=contact,
        ticket=ticket,
        other_ticket=other,
        subtask=subtask,
        attachment=message.attachments.get(),
        waybill=waybill,
        markers=[
            f"客户{tag}",
            f"联系人{tag}",
            tag.lower(),
            f"主题{tag}",
            f"描述{tag}",
            f"回复{tag}",
            f"内部备注{tag}",
            f"回单{tag}",
            f"附件内容{tag}",
            f"关联{tag}",
            f"协作{tag}",
            f"问题{tag}",
        ],
    )


@pytest.fixture
def world(db: None, settings: Any, tmp_path: Any) -> World:
    settings.MEDIA_ROOT = tmp_path / "media"
    team_a, team_b = cast(Team, TeamFactory(name="甲组")), cast(Team, TeamFactory(name="乙组"))
    users: dict[str, Any] = {
        "anonymous": None,
        "agent": UserFactory(role=Role.AGENT),
        "lead": UserFactory(role=Role.LEAD),
        "manager": UserFactory(role=Role.MANAGER),
        "qa": UserFactory(role=Role.QA),
        "analyst": UserFactory(role=Role.ANALYST),
        "admin": UserFactory(role=Role.ADMIN),
    }
    other_agent = cast(User, UserFactory(role=Role.AGENT))
    MembershipFactory(team=team_a, user=users["agent"])
    MembershipFactory(team=team_a, user=users["lead"], is_lead=True)
    MembershipFactory(team=team_b, user=other_agent)
    a = _side("A", team=team_a, creator=users["agent"], account_agent=users["agent"])
    b = _side("B", team=team_b, creator=other_agent, account_agent=other_agent)
    users["portal_a"] = PortalAccountFactory(customer=a.customer).user
    users["portal_b"] = PortalAccountFactory(customer=b.customer).user
    problem_mark(actor=users["lead"], ticket=a.ticket)
    view = console.saved_view_create(actor=other_agent, name=f"视图{MARK}", filters={}, shared=False)
    job = ImportJob.objects.create(
        created_by=other_agent, original_name=f"导入{MARK}.xlsx", mode="all_or_nothing"
    )
    notifications.notify(
        users=[other_agent],
        kind="sweep",
        title=f"通知{MARK}",
        url=f"/tickets/{b.ticket.number}/",
        key="sweep",
    )
    notification = Notification.objects.get(user=other_agent)
    return World(
        users=users,
        a=a,
        b=b,
        team_a=team_a,
        foreign_view=view,
        foreign_job=job,
        foreign_notification=notification,
    )


def state(world: World) -> Any:
    """Everything a refused request must leave as it was."""
    return (
        list(Customer.objects.order_by("pk").values()),
        list(Contact.objects.order_by("pk").values()),
        CustomerNote.objects.count(),
        list(Ticket.objects.order_by("pk").values()),
        Message.objects.count(),
        list(Subtask.objects.order_by("pk").values()),
        TicketLink.objects.count(),
        list(SavedView.objects.order_by("pk").values("pk", "name")),
        ImportJob.objects.count(),
        list(Notification.objects.order_by("pk").values("pk", "read_at")),
        ReplyDraft.objects.count(),
    )


# --- how to aim each operation at a foreign object -------------------------------------------------


@dataclass(frozen=True)
class Free:
    """An operation on no object (a list, a form, the caller's own data): it must show no foreign data,
    also when asked to search for it."""

    reason: str
    query: str = ""


@dataclass(frozen=True)
class Aim:
    """The path names foreign objects: ``params`` maps each path parameter to what it names."""

    params: dict[str, str]
    body: dict[str, Any] = field(default_factory=dict)


CUSTOMER, CONTACT, TICKET, OTHER, SUBTASK, ATTACHMENT, VIEW, JOB = (
    "customer",
    "contact",
    "ticket",
    "other",
    "subtask",
    "attachment",
    "view",
    "job",
)
NOTIFICATION = "notification"
SEARCH = f"q={MARK}"

API: dict[str, Free | Aim] = {
    "GET /api/v1/me": Free("the caller's own account"),
    "GET /api/v1/customers": Free("list", SEARCH),
    "POST /api/v1/customers": Free("creates a new customer"),
    "GET /api/v1/customers/{public_id}": Aim({"public_id": CUSTOMER}),
    "PATCH /api/v1/customers/{public_id}": Aim({"public_id": CUSTOMER}, {"name": "改名"}),
    "POST /api/v1/customers/{public_id}/assign": Aim({"public_id": CUSTOMER}),
    "GET /api/v1/customers/{public_id}/contacts": Aim({"public_id": CUSTOMER}),
    "POST /api/v1/customers/{public_id}/contacts": Aim({"public_id": CUSTOMER}, {"name": "新联系人"}),
    "PUT /api/v1/customers/{public_id}/contacts/{contact_id}": Aim(
        {"public_id": CUSTOMER, "contact_id": CONTACT}, {"name": "改名", "version": 1}
    ),
    "DELETE /api/v1/customers/{public_id}/contacts/{contact_id}": Aim(
        {"public_id": CUSTOMER, "contact_id": CONTACT}
    ),
    "POST /api/v1/customers/{public_id}/notes": Aim({"public_id": CUSTOMER}, {"body": "备注"}),
    "POST /api/v1/tickets/{ref}/merge": Aim({"ref": TICKET}),
    "POST /api/v1/tickets/{ref}/split": Aim({"ref": TICKET}),
    "POST /api/v1/tickets/{ref}/links": Aim({"ref": TICKET}),
    "DELETE /api/v1/tickets/{ref}/links/{other}": Aim({"ref": TICKET, "other": OTHER}),
    "GET /api/v1/tickets/{ref}/subtasks": Aim({"ref": TICKET}),
    "POST /api/v1/tickets/{ref}/subtasks": Aim({"ref": TICKET}),
    "PATCH /api/v1/tickets/{ref}/subtasks/{subtask_id}": Aim({"ref": TICKET, "subtask_id": SUBTASK}),
    "POST /api/v1/tickets/{ref}/subtasks/{subtask_id}/status": Aim({"ref": TICKET, "subtask_id": SUBTASK}),
    "POST /api/v1/tickets/{ref}/problem": Aim({"ref": TICKET}),
    "POST /api/v1/tickets/{ref}/incidents": Aim({"ref": TICKET}),
    "POST /api/v1/tickets/{ref}/problem-updates": Aim({"ref": TICKET}),
    "POST /api/v1/tickets/{ref}/problem-resolve": Aim({"ref": TICKET}),
    "GET /api/v1/tickets/{ref}/incident-rule": Aim({"ref": TICKET}),
    "PUT /api/v1/tickets/{ref}/incident-rule": Aim({"ref": TICKET}),
    "DELETE /api/v1/tickets/{ref}/incident-rule": Aim({"ref": TICKET}),
    "GET /api/v1/tickets/{ref}/messages": Aim({"ref": TICKET}),
    "POST /api/v1/tickets/{ref}/replies": Aim({"ref": TICKET}),
    "POST /api/v1/tickets/{ref}/notes": Aim({"ref": TICKET}),
    "POST /api/v1/tickets/{ref}/attachments": Aim({"ref": TICKET}),
    "GET /api/v1/tickets": Free("list", SEARCH),
    "POST /api/v1/tickets": Free("creates a new ticket"),
    "GET /api/v1/tickets/changes": Free("the changes feed", "since=2000-01-01T00:00:00Z"),
    "GET /api/v1/tickets/{ref}": Aim({"ref": TICKET}),
    "PATCH /api/v1/tickets/{ref}": Aim({"ref": TICKET}),
    "POST /api/v1/tickets/{ref}/assign": Aim({"ref": TICKET}),
    "POST /api/v1/tickets/{ref}/transition": Aim({"ref": TICKET}, {"status": "open"}),
    "POST /api/v1/tickets/{ref}/resolve": Aim({"ref": TICKET}),
    "POST /api/v1/tickets/{ref}/close": Aim({"ref": TICKET}),
    "POST /api/v1/tickets/{ref}/reopen": Aim({"ref": TICKET}),
    "POST /api/v1/tickets/{ref}/accept": Aim({"ref": TICKET}),
    "POST /api/v1/tickets/{ref}/reject": Aim({"ref": TICKET}),
    "POST /api/v1/tickets/{ref}/reveal-phone": Aim({"ref": TICKET}, {"reason": "客户要求回电"}),
}

# Operations on one's own ticket (or none) that name foreign objects in the body: a merge or link
# target, incidents by number, the tickets of a bulk action, the customer of a new ticket. The foreign
# tickets must come out untouched (refused, or simply not found), and unnamed in the answer.
FOREIGN_TICKET, FOREIGN_CUSTOMER = "<foreign ticket>", "<foreign customer>"
FOREIGN_WAYBILL = "<foreign waybill>"
API_BODY_AIMS: list[tuple[str, dict[str, Any]]] = [
    ("POST /api/v1/tickets", {"customer": FOREIGN_CUSTOMER}),
    ("POST /api/v1/tickets/{ref}/merge", {"into": FOREIGN_TICKET}),
    ("POST /api/v1/tickets/{ref}/links", {"other": FOREIGN_TICKET}),
    ("POST /api/v1/tickets/{ref}/incidents", {"tickets": [FOREIGN_TICKET]}),
    ("POST /api/v1/tickets/{ref}/incidents", {"waybills": [FOREIGN_WAYBILL]}),
]
PAGE_BODY_AIMS: list[tuple[str, dict[str, Any]]] = [
    ("tickets/{own}/merge/", {"into": FOREIGN_TICKET, "confirm": "1"}),
    ("tickets/{own}/link/", {"other": FOREIGN_TICKET}),
    ("tickets/{own}/problem/link/", {"mode": "numbers", "numbers": FOREIGN_TICKET}),
    ("tickets/{own}/problem/link/", {"mode": "waybills", "waybills": FOREIGN_WAYBILL}),
    ("tickets/bulk/", {"tickets": [FOREIGN_TICKET], "action": "tag", "tag": "扫描"}),
    ("tickets/bulk/", {"tickets": [FOREIGN_TICKET], "action": "priority", "value": "urgent"}),
]

# Console and portal URL patterns (the admin and the API are covered elsewhere). A pattern whose last
# parameter picks an operation (``<str:action>``) is swept with every operation its view knows.
PAGES: dict[str, Free | Aim] = {
    "healthz": Free("health check"),
    "i18n/setlang/": Free("sets the language cookie"),
    "api/docs": Free("redirect to the API documentation"),
    "": Free("the caller's home page"),
    "login/": Free("sign-in form"),
    "logout/": Free("signs the caller out"),
    "me/availability/": Free("the caller's own availability"),
    "teams/": Free("the team board"),
    "customers/": Free("list", SEARCH),
    "customers/import/": Free("the import form"),
    "customers/import/<str:job_id>/": Aim({"job_id": JOB}),
    "customers/export.xlsx": Free("export of the list", SEARCH),
    "customers/<str:public_id>/": Aim({"public_id": CUSTOMER}),
    "customers/<str:public_id>/notes/": Aim({"public_id": CUSTOMER}, {"body": "备注"}),
    "customers/<str:public_id>/contacted/": Aim({"public_id": CUSTOMER}),
    "customers/new/": Free("the new-customer form"),
    "customers/<str:public_id>/edit/": Aim({"public_id": CUSTOMER}, {"name": "改名"}),
    "customers/<str:public_id>/contacts/new/": Aim({"public_id": CUSTOMER}, {"name": "新联系人"}),
    "customers/<str:public_id>/contacts/<str:contact_id>/edit/": Aim(
        {"public_id": CUSTOMER, "contact_id": CONTACT}, {"name": "改名", "version": 1}
    ),
    "customers/<str:public_id>/contacts/<str:contact_id>/reveal-phone/": Aim(
        {"public_id": CUSTOMER, "contact_id": CONTACT}, {"reason": "客户要求回电"}
    ),
    "tickets/": Free("the queue", SEARCH),
    "tickets/bulk/": Free("names tickets in the body: see PAGE_BODY_AIMS"),
    "tickets/counts/": Free("queue counts"),
    "tickets/views/": Free("creates the caller's own saved view"),
    "tickets/views/<int:view_id>/delete/": Aim({"view_id": VIEW}),
    "tickets/new/": Free("the new-ticket form"),
    "tickets/new/fields/": Free("a category's fields"),
    "tickets/customers/lookup/": Free("customer lookup", SEARCH),
    "tickets/calls/": Free("the call log", SEARCH),
    "tickets/<str:number>/": Aim({"number": TICKET}),
    "tickets/<str:number>/attachments/<str:public_id>/": Aim({"number": TICKET, "public_id": ATTACHMENT}),
    "tickets/<str:number>/presence/": Aim({"number": TICKET}),
    "tickets/<str:number>/draft/": Aim({"number": TICKET}, {"body": "草稿"}),
    "tickets/<str:number>/reveal-phone/": Aim({"number": TICKET}, {"reason": "客户要求回电"}),
    "notifications/": Free("the caller's own notifications"),
    "notifications/bell/": Free("the caller's unread count"),
    "notifications/read-all/": Free("marks the caller's own notifications read"),
    "notifications/<int:notification_id>/read/": Aim({"notification_id": NOTIFICATION}),
    "tickets/<str:number>/problem/<str:op>/": Aim({"number": TICKET, "op": "op"}),
    "tickets/<str:number>/<str:action>/": Aim({"number": TICKET, "action": "action"}),
    "portal/tickets/": Free("the organisation's tickets", SEARCH),
    "portal/tickets/new/": Free("the new-ticket form"),
    "portal/tickets/new/fields/": Free("a category's fields"),
    "portal/tickets/<str:number>/": Aim({"number": TICKET}),
    "portal/tickets/<str:number>/attachments/<str:public_id>/": Aim(
        {"number": TICKET, "public_id": ATTACHMENT}
    ),
    "portal/tickets/<str:number>/<str:action>/": Aim({"number": TICKET, "action": "portal_action"}),
    "portal/": Free("the portal home"),
}
# The operations behind a pattern's last parameter, read from the views themselves.
OPERATIONS = {
    "action": sorted(ticket_views.ACTIONS),
    "op": sorted(problem_views.OPERATIONS),
    "portal_action": ["accept", "reject", "reply"],  # portal_views.portal_ticket_action
}
NOT_SWEPT_PREFIXES = ("admin/", "api/v1/", "static/", "media/")


@functools.cache
def openapi() -> dict[str, Any]:
    return dict(api.get_openapi_schema())


def operations() -> list[str]:
    schema = openapi()
    return [f"{method.upper()} {path}" for path, ops in schema["paths"].items() for method in ops]


def patterns() -> list[str]:
    import kefu.urls

    found: list[str] = []

    def walk(entries: list[Any], prefix: str) -> None:
        for entry in entries:
            route = prefix + str(entry.pattern)
            if route.startswith(NOT_SWEPT_PREFIXES):
                continue
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, route)
            elif isinstance(entry, URLPattern):
                found.append(route)

    walk(kefu.urls.urlpatterns, "")
    return found


def test_every_operation_and_pattern_is_in_the_sweep() -> None:
    assert sorted(set(operations()) - set(API)) == [], "add these operations to API with a foreign target"
    assert sorted(set(API) - set(operations())) == [], "these operations are gone: remove them from API"
    assert sorted(set(patterns()) - set(PAGES)) == [], "add these URL patterns to PAGES"
    assert sorted(set(PAGES) - set(patterns())) == [], "these URL patterns are gone: remove them"


# --- requests -------------------------------------------------------------------------------------


def _target(world: World, role: str, kind: str) -> str | None:
    side = world.foreign(role)
    if kind == VIEW:
        return str(world.foreign_view.pk)
    if kind == JOB:
        return world.foreign_job.public_id
    if kind == NOTIFICATION:
        return str(world.foreign_notification.pk)
    if kind in (CUSTOMER, CONTACT):
        if not world.foreign_customer(role):
            return None
        side = world.b if role != "portal_b" else world.a
        return side.customer.public_id if kind == CUSTOMER else side.contact.public_id
    if side is None:
        return None
    return {
        TICKET: side.ticket.number,
        OTHER: side.other_ticket.number,
        SUBTASK: str(side.subtask.pk),
        ATTACHMENT: side.attachment.public_id,
    }[kind]


def _example(schema: dict[str, Any], components: dict[str, Any]) -> Any:
    """The smallest value that passes ``schema`` — so a request reaches the access check."""
    if "$ref" in schema:
        return _example(components[schema["$ref"].split("/")[-1]], components)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"]
            return _example(options[0], components)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        return {name: _example(props[name], components) for name in schema.get("required", [])}
    if kind == "array":
        return [_example(schema.get("items", {}), components)] if schema.get("minItems") else []
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "number":
        return 1
    if kind == "boolean":
        return True
    if schema.get("format") == "date-time":
        return (timezone.now() + dt.timedelta(days=1)).isoformat()
    if schema.get("format") == "date":
        return timezone.localdate().isoformat()
    return "扫描"


def _api_body(key: str, extra: dict[str, Any]) -> tuple[str | None, Any]:
    method, path = key.split(" ", 1)
    schema = openapi()
    operation = schema["paths"][path][method.lower()]
    content = operation.get("requestBody", {}).get("content", {})
    if "multipart/form-data" in content:
        return "multipart", {"files": SimpleUploadedFile("扫描.txt", b"sweep", content_type="text/plain")}
    if "application/json" in content:
        body = _example(content["application/json"]["schema"], schema["components"]["schemas"])
        return "json", {**body, **extra}
    return None, None


@dataclass
class Call:
    label: str
    method: str
    url: str
    kind: str | None = None  # json | multipart | form
    body: Any = None
    aimed: bool = True  # at a foreign object (else: object-free, checked for foreign data only)


def api_calls(world: World, role: str) -> Iterator[Call]:
    for key, how in API.items():
        method, path = key.split(" ", 1)
        if isinstance(how, Free):
            url = path + (f"?{how.query}" if how.query else "")
            kind, body = _api_body(key, {}) if method in ("POST", "PUT", "PATCH") else (None, None)
            if method == "GET":
                yield Call(key, method, url, aimed=False)
            continue
        url = path
        for param, kind_name in how.params.items():
            value = _target(world, role, kind_name)
            if value is None:
                break
            url = url.replace("{" + param + "}", value)
        else:
            kind, body = _api_body(key, how.body)
            yield Call(key, method, url, kind, body)


def page_calls(world: World, role: str) -> Iterator[Call]:
    for route, how in PAGES.items():
        if isinstance(how, Free):
            if route in (
                "logout/",
                "i18n/setlang/",
                "me/availability/",
                "tickets/views/",
                "tickets/bulk/",
                "notifications/read-all/",
            ):
                continue  # writes to the caller's own session or data: nothing foreign to show
            url = "/" + route + (f"?{how.query}" if how.query else "")
            yield Call(route, "GET", url, aimed=False)
            continue
        urls = ["/" + route]
        for param, kind_name in how.params.items():
            token = re.search(rf"<(\w+:)?{param}>", route)
            assert token is not None
            if kind_name in OPERATIONS:
                urls = [u.replace(token.group(0), op) for u in urls for op in OPERATIONS[kind_name]]
                continue
            value = _target(world, role, kind_name)
            if value is None:
                urls = []
                break
            urls = [u.replace(token.group(0), value) for u in urls]
        for url in urls:
            operation = url.rstrip("/").rsplit("/", 1)[-1]
            posts = (
                "action" in how.params
                or "op" in how.params
                or route.endswith(("notes/", "contacted/", "delete/", "draft/", "read/", "reveal-phone/"))
            )
            if posts:
                yield Call(f"POST {route} [{operation}]", "POST", url, "form", {**how.body})
            else:
                yield Call(f"GET {route}", "GET", url)


def _fill(value: Any, side: Side) -> Any:
    names = {
        FOREIGN_TICKET: side.ticket.number,
        FOREIGN_CUSTOMER: side.customer.public_id,
        FOREIGN_WAYBILL: side.waybill,
    }
    if isinstance(value, list):
        return [_fill(v, side) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, side) for k, v in value.items()}
    return names.get(value, value)


def body_calls(world: World, role: str) -> Iterator[tuple[Call, bool]]:
    """Own ticket in the path, a foreign ticket in the body (roles that have a foreign ticket)."""
    side = world.foreign(role)
    if side is None or role == "anonymous":
        return
    own = world.own(role).ticket.number
    for key, extra in API_BODY_AIMS:
        method, path = key.strip().split(" ", 1)
        _, body = _api_body(key.strip(), {})
        yield (
            Call(
                f"{key.strip()} [foreign in body: {', '.join(extra)}]",
                method,
                path.replace("{ref}", own),
                "json",
                {**body, **_fill(extra, side)},
            ),
            True,
        )
    for route, form in PAGE_BODY_AIMS:
        url = "/" + route.replace("{own}", own)
        label = f"POST {route} [foreign in body: {', '.join(form)}]"
        yield Call(label, "POST", url, "form", _fill(form, side)), False


def foreign_state(side: Side) -> Any:
    tickets = [side.ticket.pk, side.other_ticket.pk]
    return (
        list(Ticket.objects.filter(pk__in=tickets).order_by("pk").values()),
        Message.objects.filter(ticket__in=tickets).count(),
        TicketLink.objects.filter(Q(source__in=tickets) | Q(target__in=tickets)).count(),
        list(Subtask.objects.filter(ticket__in=tickets).order_by("pk").values()),
        list(Ticket.tags.through.objects.filter(ticket__in=tickets).values_list("pk", flat=True)),
    )


def _client(world: World, role: str, api_as: Callable[..., Any]) -> tuple[Any, Client]:
    user = world.users[role]
    page_client = Client()
    if user is not None:
        page_client.force_login(user)
    return api_as(user), page_client


def _send(client: Any, call: Call, *, api_client: bool) -> Any:
    method = call.method.lower()
    if api_client:
        url = call.url.removeprefix("/api/v1")
        if call.kind == "multipart":
            return client.client.post(f"/api/v1{url}", call.body, headers=client.headers)
        if call.kind == "json":
            return getattr(client, method)(url, call.body)
        return getattr(client, method)(url)
    if method == "post":
        return client.post(call.url, call.body or {})
    return client.get(call.url)


def _leaks(response: Any, markers: list[str]) -> list[str]:
    if getattr(response, "streaming", False):
        body = b"".join(response.streaming_content).decode("utf-8", "replace")
    else:
        body = response.content.decode("utf-8", "replace")
    return [m for m in markers if m in body]


@pytest.mark.parametrize("role", ROLES)
def test_no_role_reaches_foreign_objects(world, api_as, role):
    api_client, page_client = _client(world, role, api_as)
    side = world.foreign(role)
    markers = side.markers if side else []
    user = world.users[role]
    if user is None or not user.has_perm("core.view_auditevent"):
        # the audit log names every record, by design, to those who may read it
        markers = [*markers, f"视图{MARK}", f"导入{MARK}"]
    markers = [*markers, f"通知{MARK}"]
    if not world.foreign_customer(role) and side is not None:
        # staff see every customer: only the foreign ticket's own data is foreign to them
        markers = [m for m in markers if not m.startswith(("客户", "联系人")) and m != side.markers[2]]
    failures: list[str] = []
    calls = [(c, True) for c in api_calls(world, role)] + [(c, False) for c in page_calls(world, role)]
    for call, is_api in calls:
        writes = call.aimed and call.method != "GET"
        before = state(world) if writes else None
        response = _send(api_client if is_api else page_client, call, api_client=is_api)
        status = response.status_code
        if status >= 500:
            failures.append(f"{call.label} {call.url}: {status}")
            continue
        leaked = _leaks(response, markers)
        if leaked:
            failures.append(f"{call.label} {call.url}: {status} shows {leaked}")
        if not call.aimed:
            continue
        allowed = {401} if is_api and role == "anonymous" else {302} if role == "anonymous" else {403, 404}
        if status not in allowed:
            failures.append(f"{call.label} {call.url}: {status}, expected {sorted(allowed)}")
        if writes and state(world) != before:
            failures.append(f"{call.label} {call.url}: {status} changed data")
    for call, is_api in body_calls(world, role):
        assert side is not None
        with transaction.atomic():  # each attempt on its own: one leak must not show up as many
            before = foreign_state(side)
            response = _send(api_client if is_api else page_client, call, api_client=is_api)
            changed = foreign_state(side) != before
            transaction.set_rollback(True)
        if response.status_code >= 500:
            failures.append(f"{call.label} {call.url}: {response.status_code}")
            continue
        leaked = _leaks(response, markers)
        if leaked:
            failures.append(f"{call.label} {call.url}: {response.status_code} shows {leaked}")
        if changed:
            failures.append(f"{call.label} {call.url}: {response.status_code} changed the foreign ticket")
    assert not failures, "\n".join(failures)
