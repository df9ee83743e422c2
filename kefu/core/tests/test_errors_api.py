"""Every API error leaves as {"code", "message", "fields", "request_id"} with the status of its exception class."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from kefu.accounts.enums import Role
from kefu.core.api import _field_path
from kefu.core.errors import (
    Conflict,
    KefuError,
    NotAuthenticated,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    ValidationFailed,
)
from kefu.customers.models import Customer


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (KefuError("x"), 500, "error"),
        (ValidationFailed("x"), 422, "validation_error"),
        (NotAuthenticated("x"), 401, "not_authenticated"),
        (PermissionDenied("x"), 403, "permission_denied"),
        (NotFound("x"), 404, "not_found"),
        (Conflict("x"), 409, "conflict"),
        (PayloadTooLarge("x"), 413, "payload_too_large"),
        (Conflict("x", code="duplicate"), 409, "duplicate"),
    ],
)
def test_error_classes_carry_status_and_code(exc, status, code):
    assert (exc.status, exc.code, exc.message) == (status, code, "x")


def test_validation_failed_for_field():
    exc = ValidationFailed.for_field("contacts.0.phone", "电话号码无效：1")

    assert exc.fields == {"contacts.0.phone": ["电话号码无效：1"]}
    assert exc.message == "电话号码无效：1"


@pytest.mark.parametrize(
    ("loc", "name"),
    [
        (["body", "payload", "name"], "name"),
        (["body", "payload", "contacts", 0, "phone"], "contacts.0.phone"),
        (["query", "limit"], "limit"),
        (["path", "public_id"], "public_id"),
        (["body", "payload"], "__all__"),
        ([], "__all__"),
    ],
)
def test_field_path(loc, name):
    assert _field_path(loc) == name


def test_nested_schema_error_is_named_by_its_path(api_as, make_user):
    response = api_as(make_user(Role.AGENT)).post(
        "/customers",
        {"name": "甲", "contacts": [{"name": "王", "phone": "13812345678", "preferred_channel": "fax"}]},
    )

    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["contacts.0.preferred_channel"]


def test_unknown_field_message(api_as, make_user):
    response = api_as(make_user(Role.AGENT)).post("/customers", {"name": "甲", "colour": "red"})

    assert response.json() == {
        "code": "validation_error",
        "message": "请求数据有误，请检查各字段",
        "fields": {"colour": ["不允许的字段"]},
        "request_id": response["X-Request-ID"],
    }


def test_every_error_of_one_request_is_reported(api_as, make_user):
    response = api_as(make_user(Role.AGENT)).post("/customers", {"tier": "gold", "kind": 3, "extra": 1})

    assert sorted(response.json()["fields"]) == ["extra", "kind", "name", "tier"]


def test_oversized_body_is_refused_before_it_is_read(make_user, api_as, settings):
    settings.KEFU_API_MAX_BODY_BYTES = 100
    client = api_as(make_user(Role.AGENT))

    body = {"name": "甲" * 100}
    size = len(json.dumps(body).encode())  # the client sends ASCII-escaped JSON

    response = client.post("/customers", body)

    assert response.status_code == 413
    assert response.json() == {
        "code": "payload_too_large",
        "message": f"请求体 {size} 字节，超过上限 100 字节",
        "fields": {},
        "request_id": response["X-Request-ID"],
    }
    assert Customer.objects.count() == 0


def test_size_limit_applies_only_to_the_api(db, settings):
    settings.KEFU_API_MAX_BODY_BYTES = 10

    response = Client().post("/login/", {"username": "someone", "password": "wrong-password"})

    assert response.status_code == 200  # the login form again, not 413


def test_unknown_customer_is_404_in_the_error_shape(api_as, make_user):
    response = api_as(make_user(Role.QA)).get("/customers/nosuchcustomer00")

    assert response.status_code == 404
    assert response.json() == {
        "code": "not_found",
        "message": "客户不存在",
        "fields": {},
        "request_id": response["X-Request-ID"],
    }


def test_wrong_method_is_not_a_server_error(api_as, make_user):
    response = api_as(make_user(Role.QA)).put("/customers", {"name": "甲"})

    assert response.status_code == 405
