"""The API docs and schema: public in development, in production only when configured (else staff only)."""

from __future__ import annotations

import pytest
from django.test import Client

from kefu.accounts.enums import Role

pytestmark = pytest.mark.django_db

URLS = ["/api/v1/openapi.json", "/api/v1/docs"]


@pytest.mark.parametrize("url", URLS)
def test_public_when_configured(settings, url):
    settings.KEFU_API_DOCS_PUBLIC = True
    assert Client().get(url).status_code == 200


@pytest.mark.parametrize("url", URLS)
def test_hidden_from_anonymous_callers_when_not_public(settings, url):
    settings.KEFU_API_DOCS_PUBLIC = False
    response = Client().get(url)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert "paths" not in response.json()


@pytest.mark.parametrize("role", [Role.AGENT, Role.ADMIN])
def test_staff_still_read_the_schema_when_not_public(settings, make_user, role):
    settings.KEFU_API_DOCS_PUBLIC = False
    client = Client()
    client.force_login(make_user(role))
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert "/api/v1/customers" in response.json()["paths"]


def test_portal_users_do_not_when_not_public(settings, make_user):
    settings.KEFU_API_DOCS_PUBLIC = False
    client = Client()
    client.force_login(make_user(Role.CUSTOMER))
    assert client.get("/api/v1/openapi.json").status_code == 404


def test_api_docs_shortcut_redirects(settings):
    assert Client().get("/api/docs")["Location"] == "/api/v1/docs"
