"""API tokens: shown once, stored hashed, accepted as Bearer or X-API-Key, refused once unusable; and
session authentication for the browser with its CSRF check."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.test import Client
from django.utils import timezone

from kefu.accounts.enums import Role
from kefu.accounts.models import ApiToken
from kefu.accounts.services import token_authenticate, token_create, token_revoke
from kefu.accounts.tests.factories import PASSWORD
from kefu.core.actors import SYSTEM
from kefu.core.errors import ValidationFailed
from kefu.core.models import AuditAction, AuditEvent
from kefu.customers.models import Customer

UNAUTHENTICATED = {"code": "not_authenticated", "message": "需要登录或有效的 API 令牌", "fields": {}}


def integration(**headers):
    """A client as an integration is: no session, no CSRF cookie, CSRF enforced like in production."""
    client = Client(enforce_csrf_checks=True)
    client.defaults.update({f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()})
    return client


def test_token_create_returns_the_plain_token_once_and_stores_only_its_hash(make_user):
    agent = make_user(Role.AGENT)

    token, plain = token_create(actor=agent, user=agent, name="  工单系统  ")

    stored = ApiToken.objects.get(pk=token.pk)
    assert plain.startswith(f"kefu_{stored.prefix}_")
    assert stored.key_hash == hashlib.sha256(plain.encode()).hexdigest()
    assert stored.name == "工单系统"
    assert plain not in {str(v) for v in ApiToken.objects.values_list("name", "prefix", "key_hash").get()}
    event = AuditEvent.objects.get(action=AuditAction.CREATE, object_id=str(token.pk))
    assert event.actor == agent
    assert plain not in str(event.changes)
    assert token_authenticate(plain) == agent


def test_token_for_an_inactive_user_is_not_created(make_user):
    agent = make_user(Role.AGENT, is_active=False)

    with pytest.raises(ValidationFailed) as exc:
        token_create(actor=SYSTEM, user=agent, name="api")

    assert exc.value.fields == {"user": [f"用户 {agent.username} 已停用"]}
    assert ApiToken.objects.count() == 0


@pytest.mark.parametrize("scheme", ["Bearer", "bearer"])
def test_bearer_token_authenticates(make_user, scheme):
    lead = make_user(Role.LEAD, full_name="张组长")
    _, plain = token_create(actor=SYSTEM, user=lead, name="api")

    response = integration(Authorization=f"{scheme} {plain}").get("/api/v1/me")

    assert response.status_code == 200
    assert response.json() == {
        "username": lead.username,
        "full_name": "张组长",
        "role": "lead",
        "availability": "offline",
    }


def test_x_api_key_authenticates(make_user):
    qa = make_user(Role.QA)
    _, plain = token_create(actor=SYSTEM, user=qa, name="api")

    response = integration(**{"X-API-Key": plain}).get("/api/v1/me")

    assert response.status_code == 200
    assert response.json()["username"] == qa.username


def test_using_a_token_records_when_it_was_last_used(make_user):
    agent = make_user(Role.AGENT)
    token, plain = token_create(actor=SYSTEM, user=agent, name="api")

    integration(Authorization=f"Bearer {plain}").get("/api/v1/me")

    token.refresh_from_db()
    assert token.last_used_at is not None


def test_token_can_write_without_csrf(make_user):
    # given an integration with a valid token and no browser session
    agent = make_user(Role.AGENT)
    _, plain = token_create(actor=SYSTEM, user=agent, name="api")

    # when it creates a customer
    response = integration(Authorization=f"Bearer {plain}").post(
        "/api/v1/customers", {"name": "接口客户"}, content_type="application/json"
    )

    # then it is created: CSRF protects sessions, not tokens
    assert response.status_code == 201
    assert Customer.objects.get().name == "接口客户"


def _revoked(user):
    token, plain = token_create(actor=SYSTEM, user=user, name="api")
    token_revoke(actor=SYSTEM, token=token)
    return plain


def _expired(user):
    _, plain = token_create(
        actor=SYSTEM, user=user, name="api", expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    return plain


def _inactive_user(user):
    _, plain = token_create(actor=SYSTEM, user=user, name="api")
    user.is_active = False
    user.save(update_fields=["is_active"])
    return plain


def _wrong_secret(user):
    _, plain = token_create(actor=SYSTEM, user=user, name="api")
    return plain[:-4] + ("aaaa" if not plain.endswith("aaaa") else "bbbb")


@pytest.mark.parametrize("make_token", [_revoked, _expired, _inactive_user, _wrong_secret])
@pytest.mark.parametrize("header", ["Authorization", "X-API-Key"])
@pytest.mark.parametrize(("method", "path"), [("get", "/api/v1/me"), ("post", "/api/v1/customers")])
def test_unusable_token_is_401(make_user, make_token, header, method, path):
    # given a manager whose token can no longer be used
    plain = make_token(make_user(Role.MANAGER))
    value = f"Bearer {plain}" if header == "Authorization" else plain

    # when an integration presents it, reading or writing
    client = integration(**{header: value})
    response = (
        client.post(path, {"name": "不该建立"}, content_type="application/json")
        if method == "post"
        else client.get(path)
    )

    # then it is told to authenticate (not a CSRF complaint), and nothing was written
    assert response.status_code == 401
    assert response.json() == {**UNAUTHENTICATED, "request_id": response["X-Request-ID"]}
    assert Customer.objects.count() == 0


@pytest.mark.parametrize(
    "value",
    [
        "Bearer",
        "Bearer ",
        "Token abc",
        "Basic dXNlcjpwYXNz",
        "kefu_deadbeef_x",
        "Bearer not-a-kefu-token",
        "Bearer  kefu_",
    ],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_malformed_authorization_header_is_401(db, value, method):
    client = integration(Authorization=value)

    response = (
        client.post("/api/v1/customers", {"name": "x"}, content_type="application/json")
        if method == "post"
        else client.get("/api/v1/customers")
    )

    assert response.status_code == 401
    assert response.json() == {**UNAUTHENTICATED, "request_id": response["X-Request-ID"]}
    assert Customer.objects.count() == 0


def test_no_credentials_at_all_is_401(db):
    response = integration().post("/api/v1/customers", {"name": "x"}, content_type="application/json")

    assert response.status_code == 401
    assert response.json() == {**UNAUTHENTICATED, "request_id": response["X-Request-ID"]}


def test_revoking_twice_records_one_event(make_user):
    agent = make_user(Role.AGENT)
    token, _ = token_create(actor=SYSTEM, user=agent, name="api")

    token_revoke(actor=agent, token=token)
    revoked_at = ApiToken.objects.get().revoked_at
    token_revoke(actor=agent, token=token)

    assert ApiToken.objects.get().revoked_at == revoked_at
    assert AuditEvent.objects.filter(action=AuditAction.UPDATE, object_id=str(token.pk)).count() == 1


# --- session (browser) -----------------------------------------------------------------------------


def test_browser_session_reads_the_api(make_user):
    agent = make_user(Role.AGENT)
    client = Client(enforce_csrf_checks=True)
    assert client.login(username=agent.username, password=PASSWORD)

    response = client.get("/api/v1/me")

    assert response.status_code == 200
    assert response.json()["username"] == agent.username


def test_browser_session_write_without_csrf_token_is_rejected(make_user):
    # given a signed-in agent in a browser
    agent = make_user(Role.AGENT)
    client = Client(enforce_csrf_checks=True)
    assert client.login(username=agent.username, password=PASSWORD)

    # when a page (or another site) posts with the session cookie but without the CSRF token
    response = client.post("/api/v1/customers", {"name": "跨站请求"}, content_type="application/json")

    # then it is refused in the API's error shape and nothing is created
    assert response.status_code == 403
    assert set(response.json()) == {"code", "message", "fields", "request_id"}
    assert Customer.objects.count() == 0


def test_browser_session_write_with_csrf_token_succeeds(make_user):
    agent = make_user(Role.AGENT)
    client = Client(enforce_csrf_checks=True)
    assert client.login(username=agent.username, password=PASSWORD)
    client.get("/")  # the page sets the CSRF cookie
    token = client.cookies["csrftoken"].value

    response = client.post(
        "/api/v1/customers",
        {"name": "页面新建"},
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )

    assert response.status_code == 201
    assert Customer.objects.get().name == "页面新建"


def test_signed_out_browser_is_401(db):
    response = Client(enforce_csrf_checks=True).get("/api/v1/me")

    assert response.status_code == 401
    assert response.json() == {**UNAUTHENTICATED, "request_id": response["X-Request-ID"]}
