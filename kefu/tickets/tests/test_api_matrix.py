"""Who may do what on /api/v1/tickets: every role against every endpoint.

The target is always a ticket of organization A handled by team A. "agent" is a member of team A,
"other_agent" of team B; "lead" leads team A; "portal_a"/"portal_b" are portal users of organization
A/B. Denied requests must leave the database exactly as it was, and no answer on a customer path may
carry an internal note.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from kefu.accounts.enums import Role
from kefu.accounts.tests.factories import MembershipFactory, TeamFactory, UserFactory
from kefu.core.models import AuditEvent, IdempotencyKey, Notification
from kefu.customers.tests.factories import CustomerFactory, PortalAccountFactory
from kefu.tickets.enums import Visibility
from kefu.tickets.models import Attachment, Message, Tag, Ticket, TicketLink, TicketWaybill
from kefu.tickets.services.incidents import incident_link
from kefu.tickets.services.lifecycle import ticket_resolve
from kefu.tickets.services.merge_split_link import ticket_link
from kefu.tickets.services.problems import problem_mark
from kefu.tickets.services.work_orders import subtask_create
from kefu.tickets.tests.factories import new_message, new_ticket

ROLES = [
    "anonymous",
    "agent",
    "other_agent",
    "lead",
    "manager",
    "qa",
    "analyst",
    "admin",
    "portal_a",
    "portal_b",
]
NOTE = "内部备注：该客户索赔历史较多"


def without_request_id(response: Any) -> dict[str, Any]:
    """An error body without its request id, which differs per request by design."""
    return {k: v for k, v in response.json().items() if k != "request_id"}


@pytest.fixture
def world(db: None) -> dict[str, Any]:
    org_a = CustomerFactory(name="甲方冷链物流有限公司")
    org_b = CustomerFactory(name="乙方快运有限公司")
    team_a, team_b = TeamFactory(), TeamFactory()
    users: dict[str, Any] = {
        "anonymous": None,
        "agent": UserFactory(role=Role.AGENT),
        "other_agent": UserFactory(role=Role.AGENT),
        "lead": UserFactory(role=Role.LEAD),
        "manager": UserFactory(role=Role.MANAGER),
        "qa": UserFactory(role=Role.QA),
        "analyst": UserFactory(role=Role.ANALYST),
        "admin": UserFactory(role=Role.ADMIN),
        "portal_a": PortalAccountFactory(customer=org_a).user,
        "portal_b": PortalAccountFactory(customer=org_b).user,
    }
    MembershipFactory(team=team_a, user=users["agent"])
    MembershipFactory(team=team_a, user=users["lead"])
    MembershipFactory(team=team_b, user=users["other_agent"])
    ticket = new_ticket(actor=users["agent"], customer=org_a, team=team_a, waybills=["SF1234567890"])
    reply = new_message(ticket=ticket, actor=users["agent"], body="您好，我们正在核实。")
    new_message(ticket=ticket, actor=users["agent"], body=NOTE, visibility=Visibility.INTERNAL)
    ticket.refresh_from_db()
    return {"a": org_a, "b": org_b, "team_a": team_a, "ticket": ticket, "reply": reply, "users": users}


def db_state() -> tuple[Any, ...]:
    """Everything a denied request must leave untouched."""
    return (
        list(Ticket.objects.order_by("pk").values()),
        list(Message.objects.order_by("pk").values()),
        list(TicketWaybill.objects.order_by("pk").values()),
        list(Ticket.tags.through.objects.order_by("pk").values()),
        Tag.objects.count(),
        Attachment.objects.count(),
        TicketLink.objects.count(),
        AuditEvent.objects.count(),
        Notification.objects.count(),
        IdempotencyKey.objects.count(),
    )


def _resolve(world: dict[str, Any]) -> None:
    ticket_resolve(actor=world["users"]["agent"], ticket=world["ticket"], solution_summary="已加急派送")


def _other(world: dict[str, Any]) -> None:
    """A second ticket of organization A and team A, with the same waybill."""
    world["other"] = new_ticket(customer=world["a"], team=world["team_a"], waybills=["SF1234567890"])


def _linked(world: dict[str, Any]) -> None:
    _other(world)
    ticket_link(actor=world["users"]["manager"], ticket=world["ticket"], other=world["other"])


def _subtask(world: dict[str, Any]) -> None:
    world["subtask"] = subtask_create(actor=world["users"]["agent"], ticket=world["ticket"], **SUBTASK)


def _problem(world: dict[str, Any]) -> None:
    problem_mark(actor=world["users"]["manager"], ticket=world["ticket"])


def _problem_and_other(world: dict[str, Any]) -> None:
    _problem(world)
    _other(world)


def _problem_with_incident(world: dict[str, Any]) -> None:
    _problem_and_other(world)
    incident_link(actor=world["users"]["manager"], problem=world["ticket"], incidents=[world["other"]])


SUBTASK: dict[str, Any] = {
    "department": "warehouse",
    "title": "核查出库记录",
    "deadline": timezone.now() + dt.timedelta(days=2),
    "problem_description": "客户称少件",
    "support_needed": "提供出库称重记录",
}
SUBTASK_JSON = {**SUBTASK, "deadline": "2099-01-01T10:00:00+08:00"}


def _upload(client: Any, path: str) -> Any:
    data = {"files": SimpleUploadedFile("签收单.pdf", b"%PDF-1.4 test", content_type="application/pdf")}
    return client.client.post(f"/api/v1{path}", data=data, headers=client.headers)


NEW_TICKET = {"subject": "货物破损", "type": "complaint", "description": "外箱压坏"}


def _call(client: Any, endpoint: str, world: dict[str, Any]) -> Any:
    base = f"/tickets/{world['ticket'].number}"
    version = world["ticket"].version
    agent = world["users"]["agent"]
    return {
        "list": lambda: client.get("/tickets"),
        "changes": lambda: client.get("/tickets/changes?since=2000-01-01T00:00:00Z"),
        "create": lambda: client.post("/tickets", NEW_TICKET),
        "detail": lambda: client.get(base),
        "messages": lambda: client.get(f"{base}/messages"),
        "patch": lambda: client.patch(base, {"version": version, "priority": "high"}),
        "assign": lambda: client.post(f"{base}/assign", {"assignee": agent.pk}),
        "transition": lambda: client.post(f"{base}/transition", {"status": "waiting-customer"}),
        "resolve": lambda: client.post(f"{base}/resolve", {"solution_summary": "已联系承运商加急"}),
        "close": lambda: client.post(f"{base}/close", {"satisfaction_confirmed": True}),
        "reopen": lambda: client.post(f"{base}/reopen", {"reason": "客户反馈仍未收到"}),
        "replies": lambda: client.post(f"{base}/replies", {"body": "请问什么时候能送到？"}),
        "notes": lambda: client.post(f"{base}/notes", {"body": "已催承运商"}),
        "attachments": lambda: _upload(client, f"{base}/attachments"),
        "accept": lambda: client.post(f"{base}/accept"),
        "reject": lambda: client.post(f"{base}/reject", {"reason": "货还没到"}),
        "merge": lambda: client.post(f"{base}/merge", {"into": world["other"].number}),
        "split": lambda: client.post(
            f"{base}/split", {"message": world["reply"].pk, "subject": "另一个运单"}
        ),
        "link": lambda: client.post(f"{base}/links", {"other": world["other"].number}),
        "unlink": lambda: client.delete(f"{base}/links/{world['other'].number}"),
        "subtasks": lambda: client.get(f"{base}/subtasks"),
        "subtask_create": lambda: client.post(f"{base}/subtasks", SUBTASK_JSON),
        "subtask_update": lambda: client.patch(
            f"{base}/subtasks/{world['subtask'].pk}", {"version": 1, "current_progress": "已联系仓库"}
        ),
        "subtask_status": lambda: client.post(
            f"{base}/subtasks/{world['subtask'].pk}/status", {"status": "done"}
        ),
        "problem_mark": lambda: client.post(f"{base}/problem"),
        "incidents": lambda: client.post(f"{base}/incidents", {"tickets": [world["other"].number]}),
        "problem_update": lambda: client.post(
            f"{base}/problem-updates", {"body": "仓库系统已恢复", "update_id": "u1"}
        ),
        "problem_resolve": lambda: client.post(f"{base}/problem-resolve", {"solution_summary": "系统已修复"}),
    }[endpoint]()


def _expect(default: int, **overrides: int) -> dict[str, int]:
    table = {"anonymous": 401, **dict.fromkeys(ROLES[1:], default)}
    table.update(overrides)
    return table


READ = _expect(200, other_agent=404, portal_b=404)
# Staff writes: team A's agent, lead, manager, admin; the other team does not see the ticket.
STAFF_WRITE = {"other_agent": 404, "qa": 403, "analyst": 403, "portal_a": 403, "portal_b": 404}
REPLY = {"other_agent": 404, "qa": 403, "analyst": 403, "portal_b": 404}
PORTAL_ONLY = _expect(403, other_agent=404, portal_a=200, portal_b=404)
API_MATRIX: dict[str, dict[str, int]] = {
    "list": _expect(200),
    "changes": _expect(200),
    "create": _expect(201, qa=403, analyst=403),
    "detail": READ,
    "messages": READ,
    "patch": _expect(200, **STAFF_WRITE),
    "assign": _expect(200, **STAFF_WRITE),
    "transition": _expect(200, **STAFF_WRITE),
    "resolve": _expect(200, **STAFF_WRITE),
    "close": _expect(200, **STAFF_WRITE),
    "reopen": _expect(200, **STAFF_WRITE),
    "replies": _expect(201, **REPLY),
    "notes": _expect(201, **STAFF_WRITE),
    "attachments": _expect(201, **REPLY),
    "accept": PORTAL_ONLY,
    "reject": PORTAL_ONLY,
    "merge": _expect(200, **STAFF_WRITE),
    "split": _expect(201, **STAFF_WRITE),
    "link": _expect(201, **STAFF_WRITE),
    "unlink": _expect(204, **STAFF_WRITE),
    "subtasks": _expect(200, other_agent=404, portal_a=403, portal_b=404),
    "subtask_create": _expect(201, **STAFF_WRITE),
    "subtask_update": _expect(200, **STAFF_WRITE),
    "subtask_status": _expect(200, **STAFF_WRITE),
    # managing problems needs tickets.manage_problem: leads, managers, admins — not agents
    "problem_mark": _expect(200, agent=403, **STAFF_WRITE),
    "incidents": _expect(200, agent=403, **STAFF_WRITE),
    "problem_update": _expect(200, agent=403, **STAFF_WRITE),
    "problem_resolve": _expect(200, agent=403, **STAFF_WRITE),
}
SETUP = {
    "close": _resolve,
    "reopen": _resolve,
    "accept": _resolve,
    "reject": _resolve,
    "merge": _other,
    "link": _other,
    "unlink": _linked,
    "subtask_update": _subtask,
    "subtask_status": _subtask,
    "incidents": _problem_and_other,
    "problem_update": _problem_with_incident,
    "problem_resolve": _problem,
}
READS = {"list", "changes", "detail", "messages", "subtasks"}
CASES = [(endpoint, role, table[role]) for endpoint, table in API_MATRIX.items() for role in ROLES]
ERROR_CODES = {401: "not_authenticated", 403: "permission_denied", 404: "not_found"}


@pytest.mark.parametrize(("endpoint", "role", "status"), CASES, ids=[f"{e}-{r}" for e, r, _ in CASES])
def test_api_role_matrix(world, api_as, endpoint, role, status):
    # given a user of that role (or nobody) and team A's ticket for organization A, in the state the
    # action needs
    if endpoint in SETUP:
        SETUP[endpoint](world)
        world["ticket"].refresh_from_db()
    client = api_as(world["users"][role])
    before = db_state()

    # when they call the endpoint
    response = _call(client, endpoint, world)

    # then the status is the expected one, errors have the single shape, denied calls and reads change
    # nothing, and no customer ever sees an internal note
    assert response.status_code == status, response.content
    if status >= 400:
        body = response.json()
        assert set(body) == {"code", "message", "fields", "request_id"}
        assert body["code"] == ERROR_CODES[status]
    if status >= 400 or endpoint in READS:
        assert db_state() == before
    if role.startswith("portal"):
        assert NOTE not in response.content.decode()
        assert "internal" not in response.content.decode().replace('"internal": null', "")


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("get", "", None),
        ("get", "/messages", None),
        ("patch", "", {"version": 1, "priority": "high"}),
        ("post", "/replies", {"body": "你好"}),
        ("post", "/accept", None),
        ("post", "/reject", {"reason": "x"}),
        ("post", "/notes", {"body": "x"}),
    ],
)
def test_other_organization_gets_the_same_404_as_a_missing_ticket(world, api_as, method, suffix, body):
    # given a portal user of organization B
    client = api_as(world["users"]["portal_b"])
    args = [] if body is None else [body]

    # when they address organization A's ticket, by number and by public id, and a missing one
    by_number = getattr(client, method)(f"/tickets/{world['ticket'].number}{suffix}", *args)
    by_id = getattr(client, method)(f"/tickets/{world['ticket'].public_id}{suffix}", *args)
    missing = getattr(client, method)(f"/tickets/T9901019999{suffix}", *args)

    # then all three answers are identical: nothing hints that A's ticket exists
    assert by_number.status_code == by_id.status_code == missing.status_code == 404
    assert without_request_id(by_number) == without_request_id(by_id) == without_request_id(missing)


def test_portal_user_lists_only_their_organizations_tickets(world, api_as, settings):
    settings.KEFU_CHANGES_SETTLE_SECONDS = 0  # the changes feed lists this ticket at once
    new_ticket(customer=world["b"], subject="乙方的工单")

    items_a = api_as(world["users"]["portal_a"]).get("/tickets").json()["items"]
    items_b = api_as(world["users"]["portal_b"]).get("/tickets").json()["items"]
    changes_b = api_as(world["users"]["portal_b"]).get("/tickets/changes?since=2000-01-01T00:00:00Z").json()

    assert [t["number"] for t in items_a] == [world["ticket"].number]
    assert [t["subject"] for t in items_b] == ["乙方的工单"]
    assert [t["subject"] for t in changes_b["items"]] == ["乙方的工单"]
    assert all(t["internal"] is None for t in items_a + items_b)


def test_agent_of_another_team_lists_nothing_of_team_a(world, api_as):
    response = api_as(world["users"]["other_agent"]).get("/tickets")

    assert response.json() == {"items": [], "next_cursor": None}


@pytest.mark.parametrize("role", ["agent", "lead", "manager", "qa", "analyst", "admin"])
def test_staff_see_notes_in_messages(world, api_as, role):
    response = api_as(world["users"][role]).get(f"/tickets/{world['ticket'].number}/messages")

    assert [m["visibility"] for m in response.json()] == ["public", "internal"]
