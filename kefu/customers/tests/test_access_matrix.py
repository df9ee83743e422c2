"""Who may do what: every role against every API endpoint and every HTML page.

Roles come from kefu.accounts.roles (groups migration 0002). The target is always organization A's
customer; "portal_a" is a portal user of that organization, "portal_b" one of another organization.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from kefu.accounts.enums import Role
from kefu.accounts.models import ApiToken
from kefu.accounts.tests.factories import UserFactory
from kefu.core.models import AuditEvent
from kefu.customers.models import Contact, Customer, CustomerNote
from kefu.customers.tests.factories import ContactFactory, CustomerFactory, PortalAccountFactory

ROLES = ["anonymous", "agent", "lead", "manager", "qa", "analyst", "admin", "portal_a", "portal_b"]
STAFF = ["agent", "lead", "manager", "qa", "analyst", "admin"]


def without_request_id(response: Any) -> dict[str, Any]:
    """An error body without its request id, which differs per request by design."""
    return {k: v for k, v in response.json().items() if k != "request_id"}


@pytest.fixture
def world(db):
    """Two organizations with a contact each, a portal user for each, and one user per staff role."""
    org_a = CustomerFactory(name="甲方冷链物流有限公司")
    org_b = CustomerFactory(name="乙方快运有限公司")
    contact_a = ContactFactory(customer=org_a, name="王小明")
    ContactFactory(customer=org_b, name="李大伟")
    users = {
        "anonymous": None,
        "agent": UserFactory(role=Role.AGENT),
        "lead": UserFactory(role=Role.LEAD),
        "manager": UserFactory(role=Role.MANAGER),
        "qa": UserFactory(role=Role.QA),
        "analyst": UserFactory(role=Role.ANALYST),
        "admin": UserFactory(role=Role.ADMIN),
        "portal_a": PortalAccountFactory(customer=org_a).user,
        "portal_b": PortalAccountFactory(customer=org_b).user,
    }
    return {"a": org_a, "b": org_b, "contact_a": contact_a, "users": users}


def db_state():
    """Everything a denied request must leave untouched."""
    return (
        list(Customer.objects.order_by("pk").values()),
        list(Contact.objects.order_by("pk").values()),
        list(CustomerNote.objects.order_by("pk").values()),
        AuditEvent.objects.count(),
    )


# --- API -------------------------------------------------------------------------------------------

NEW_CUSTOMER = {"name": "新建供应链有限公司", "contacts": [{"name": "赵六", "phone": "13900001111"}]}
NEW_CONTACT = {"name": "钱七", "phone": "13700002222", "email": "qian@example.cn"}


def _call(client, endpoint, world):
    a, contact = world["a"].public_id, world["contact_a"].public_id
    base = f"/customers/{a}"
    return {
        "list": lambda: client.get("/customers"),
        "create": lambda: client.post("/customers", NEW_CUSTOMER),
        "detail": lambda: client.get(base),
        "patch": lambda: client.patch(base, {"tier": "vip"}),
        "assign": lambda: client.post(f"{base}/assign", {}),
        "contacts": lambda: client.get(f"{base}/contacts"),
        "add_contact": lambda: client.post(f"{base}/contacts", NEW_CONTACT),
        "put_contact": lambda: client.put(f"{base}/contacts/{contact}", {**NEW_CONTACT, "version": 1}),
        "delete_contact": lambda: client.delete(f"{base}/contacts/{contact}"),
        "note": lambda: client.post(f"{base}/notes", {"body": "客户要求周五前回电"}),
        "me": lambda: client.get("/me"),
    }[endpoint]()


def _expect(default_staff, **overrides):
    """Expected status per role: 401 anonymous, ``default_staff`` for staff, then the overrides."""
    table = {"anonymous": 401, **dict.fromkeys(STAFF, default_staff)}
    table.update(overrides)
    return table


WRITERS = {"qa": 403, "analyst": 403, "portal_a": 403, "portal_b": 404}
API_MATRIX = {
    "list": _expect(200, portal_a=200, portal_b=200),
    "create": _expect(201, qa=403, analyst=403, portal_a=403, portal_b=403),
    "detail": _expect(200, portal_a=200, portal_b=404),
    "patch": _expect(200, **WRITERS),
    "assign": _expect(200, agent=403, **WRITERS),
    "contacts": _expect(200, portal_a=200, portal_b=404),
    "add_contact": _expect(201, **WRITERS),
    "put_contact": _expect(200, **WRITERS),
    "delete_contact": _expect(204, agent=403, lead=403, **WRITERS),
    "note": _expect(201, **WRITERS),
    "me": _expect(200, portal_a=200, portal_b=200),
}
READS = {"list", "detail", "contacts", "me"}
API_CASES = [(endpoint, role, table[role]) for endpoint, table in API_MATRIX.items() for role in ROLES]


@pytest.mark.parametrize(("endpoint", "role", "status"), API_CASES, ids=[f"{e}-{r}" for e, r, _ in API_CASES])
def test_api_role_matrix(world, api_as, endpoint, role, status):
    # given a user of that role (or nobody) with an API token
    client = api_as(world["users"][role])
    before = db_state()

    # when they call the endpoint on organization A's customer
    response = _call(client, endpoint, world)

    # then they get the expected status, errors in the single error shape, and denied writes change nothing
    assert response.status_code == status, response.content
    if status >= 400:
        body = response.json()
        assert set(body) == {"code", "message", "fields", "request_id"}
        assert body["code"] == {401: "not_authenticated", 403: "permission_denied", 404: "not_found"}[status]
    if status >= 400 or endpoint in READS:
        state = db_state()
        if endpoint in READS and status < 400 and role in ("lead", "manager", "admin", "portal_a"):
            # an unmasked read is logged (one view_pii event) but changes nothing else
            assert state[:3] == before[:3]
        else:
            assert state == before


def test_portal_user_lists_only_their_organization(world, api_as):
    response = api_as(world["users"]["portal_a"]).get("/customers")

    assert response.status_code == 200
    assert [c["id"] for c in response.json()["items"]] == [world["a"].public_id]


def test_staff_list_shows_every_organization(world, api_as):
    response = api_as(world["users"]["qa"]).get("/customers")

    assert {c["id"] for c in response.json()["items"]} == {world["a"].public_id, world["b"].public_id}


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("get", ""),
        ("patch", ""),
        ("get", "/contacts"),
        ("post", "/contacts"),
        ("post", "/notes"),
        ("post", "/assign"),
    ],
)
def test_other_organization_gets_the_same_404_as_a_missing_customer(world, api_as, method, suffix):
    # given a portal user of organization B
    client = api_as(world["users"]["portal_b"])
    body = {"get": None, "patch": {"tier": "vip"}, "post": NEW_CONTACT}[method]
    if suffix == "/notes":
        body = {"body": "x"}
    elif suffix == "/assign":
        body = {}

    # when they address organization A's customer and a customer that does not exist
    args = [] if body is None else [body]
    existing = getattr(client, method)(f"/customers/{world['a'].public_id}{suffix}", *args)
    missing = getattr(client, method)(f"/customers/nosuchcustomer00{suffix}", *args)

    # then both answers are identical: nothing hints that A exists
    assert existing.status_code == missing.status_code == 404
    assert without_request_id(existing) == without_request_id(missing)


def test_other_organizations_contact_is_404_even_with_own_customer_id(world, api_as):
    # given a contact of organization B and a portal user of A
    contact_b = Contact.objects.get(customer=world["b"])
    client = api_as(world["users"]["portal_a"])
    before = db_state()

    # when the portal user of A reaches for B's contact through A's customer
    response = client.delete(f"/customers/{world['a'].public_id}/contacts/{contact_b.public_id}")

    # then it is forbidden before anything is looked up, and nothing changed
    assert response.status_code == 403
    assert db_state() == before


def test_manager_cannot_reach_a_contact_through_the_wrong_customer(world, api_as):
    contact_b = Contact.objects.get(customer=world["b"])
    client = api_as(world["users"]["manager"])
    before = db_state()

    response = client.delete(f"/customers/{world['a'].public_id}/contacts/{contact_b.public_id}")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert db_state() == before


def test_inactive_staff_token_is_refused(world, api_as):
    # given an agent with a token who then leaves the company
    agent = world["users"]["agent"]
    client = api_as(agent)
    agent.is_active = False
    agent.save(update_fields=["is_active"])

    response = client.get("/customers")

    assert response.status_code == 401
    assert ApiToken.objects.filter(user=agent).count() == 1


# --- HTML pages ------------------------------------------------------------------------------------

LOGIN = "login"
ADMIN_LOGIN = "admin-login"
PAGE_MATRIX = {
    "/": {"anonymous": LOGIN, **dict.fromkeys(STAFF, 200), "portal_a": "/portal/", "portal_b": "/portal/"},
    "/customers/": {"anonymous": LOGIN, **dict.fromkeys(STAFF, 200), "portal_a": 403, "portal_b": 403},
    "/customers/{a}/": {"anonymous": LOGIN, **dict.fromkeys(STAFF, 200), "portal_a": 403, "portal_b": 403},
    "/customers/import/": {
        "anonymous": LOGIN,
        **dict.fromkeys(STAFF, 403),
        "lead": 200,
        "manager": 200,
        "admin": 200,
        "portal_a": 403,
        "portal_b": 403,
    },
    "/customers/export.xlsx": {
        "anonymous": LOGIN,
        **dict.fromkeys(STAFF, 403),
        "lead": 200,
        "manager": 200,
        "analyst": 200,
        "admin": 200,
        "portal_a": 403,
        "portal_b": 403,
    },
    "/teams/": {"anonymous": LOGIN, **dict.fromkeys(STAFF, 200), "portal_a": 403, "portal_b": 403},
    "/portal/": {"anonymous": LOGIN, **dict.fromkeys(STAFF, 403), "portal_a": 200, "portal_b": 200},
    "/admin/": {
        **dict.fromkeys(ROLES, ADMIN_LOGIN),
        "manager": 200,
        "admin": 200,
    },
}
PAGE_CASES = [(page, role, table[role]) for page, table in PAGE_MATRIX.items() for role in ROLES]


@pytest.mark.parametrize(("page", "role", "expected"), PAGE_CASES, ids=[f"{p}-{r}" for p, r, _ in PAGE_CASES])
def test_page_role_matrix(world, page, role, expected):
    # given a browser signed in as that role (or not signed in)
    client = Client()
    user = world["users"][role]
    if user is not None:
        client.force_login(user)
    path = page.format(a=world["a"].public_id)
    before = db_state()

    # when they open the page
    response = client.get(path)

    # then they see it, are sent to sign in, or are refused
    if expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")
    elif expected == ADMIN_LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")
    elif isinstance(expected, str):
        assert response.status_code == 302
        assert response["Location"] == expected
    else:
        assert response.status_code == expected
    if response.status_code != 200:
        assert db_state() == before


def test_portal_page_shows_only_the_users_organization(world):
    client = Client()
    client.force_login(world["users"]["portal_b"])

    response = client.get("/portal/")

    content = response.content.decode()
    assert response.status_code == 200
    assert "乙方快运有限公司" in content
    assert "甲方冷链物流有限公司" not in content


def test_customer_page_of_unknown_customer_is_404(world):
    client = Client()
    client.force_login(world["users"]["manager"])

    assert client.get("/customers/nosuchcustomer00/").status_code == 404
