"""Errors the API meets before any handler runs still use the one error shape."""

import json

import pytest
from django.test import Client

from kefu.accounts.enums import Role
from kefu.customers.models import Customer

pytestmark = pytest.mark.django_db


def test_a_body_over_djangos_limit_without_our_precheck_is_413_in_the_error_shape(
    api_as, make_user, settings
):
    # Given the size pre-check is out of the way (as for a chunked body, which has no Content-Length)
    settings.KEFU_API_MAX_BODY_BYTES = 10 * 1024 * 1024
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    client = api_as(make_user(Role.LEAD))

    response = client.post("/customers", {"name": "甲" * 2000})

    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert set(response.json()) == {"code", "message", "fields", "request_id"}
    assert not Customer.objects.exists()


def test_a_session_post_without_csrf_token_is_permission_denied(make_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user(Role.LEAD))

    response = client.post("/api/v1/customers", json.dumps({"name": "甲方"}), content_type="application/json")

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert not Customer.objects.exists()
