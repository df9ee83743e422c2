"""The database goes away (PostgreSQL on a closed port, SQLite in a directory that does not exist):
/healthz says so within 2 s, the API keeps its JSON error body with a request id, pages show the
styled 500 page in the user's language."""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client

from kefu.accounts.enums import Role
from kefu.accounts.services import token_create
from kefu.core.actors import SYSTEM


def _reset() -> None:
    connection.close()
    connection.close_pool()  # type: ignore[attr-defined]  # PostgreSQL's wrapper


@pytest.fixture
def database_away(tmp_path: Path) -> Iterator[None]:
    """PostgreSQL: the server on a closed port. SQLite: the database file in a directory that does not
    exist (a volume gone, a path mistyped) — opening it fails at once, as it does in production."""
    saved = copy.deepcopy(connection.settings_dict)
    if connection.vendor == "postgresql":
        _reset()
        connection.settings_dict.update(HOST="127.0.0.1", PORT=1)  # nothing listens on port 1
        connection.settings_dict["OPTIONS"]["pool"]["timeout"] = 1
    else:
        # The test database lives in this process's memory and dies with its last connection: keep that
        # connection aside (not closed) while requests open the unreachable file instead.
        kept, connection.connection = connection.connection, None
        connection.settings_dict["NAME"] = str(tmp_path / "gone" / "kefu.sqlite3")
    try:
        yield
    finally:
        if connection.vendor == "postgresql":
            _reset()
        else:
            connection.connection = kept
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


@pytest.fixture
def token(make_user) -> str:
    return token_create(actor=SYSTEM, user=make_user(Role.AGENT), name="t")[1]


@pytest.fixture
def signed_in(make_user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(make_user(Role.AGENT))
    return client


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_healthz_says_503_within_two_seconds(database_away):
    started = time.monotonic()
    response = Client().get("/healthz")
    assert time.monotonic() - started < 2
    assert response.status_code == 503
    assert response.json()["checks"]["database"].startswith("error: ")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_api_error_keeps_the_json_body_with_a_request_id(token, database_away):
    client = Client(raise_request_exception=False)
    response = client.get("/api/v1/customers", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body == {
        "code": "server_error",
        "message": "服务器出错，请稍后重试；如果问题持续，请把请求编号告诉管理员",
        "fields": {},
        "request_id": response["X-Request-ID"],
    }


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize(
    ("language", "text"), [("zh-hans", "服务器出错了，已记录"), ("en", "Something went wrong on the server")]
)
def test_pages_show_the_styled_500_page(signed_in, database_away, language, text):
    signed_in.cookies["django_language"] = language
    response = signed_in.get("/customers/")
    assert response.status_code == 500
    page = response.content.decode()
    assert text in page
    assert "kefu/kefu.css" in page
    assert response["X-Request-ID"]


def test_a_request_id_sent_by_the_proxy_is_kept(db):
    response = Client().get("/healthz", headers={"X-Request-ID": "lb-1234abcd"})
    assert response["X-Request-ID"] == "lb-1234abcd"
    odd = Client().get("/healthz", headers={"X-Request-ID": "<script>"})
    assert odd["X-Request-ID"] != "<script>"
    assert len(odd["X-Request-ID"]) == 32
