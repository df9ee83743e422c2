"""Fixtures shared by every app's tests."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any, cast

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import translation

from kefu.accounts.enums import Role
from kefu.accounts.models import User
from kefu.accounts.services import portal_api_allowed, token_create
from kefu.accounts.tests.factories import UserFactory
from kefu.core import reference
from kefu.core.actors import SYSTEM


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    """Password hashing is not under test; the production hasher costs ~0.3 s per user."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True, scope="session")
def _client_login_with_a_request() -> Iterator[None]:
    """``Client.login()`` calls ``authenticate()`` without a request, and the sign-in lockout (django-axes,
    kefu.accounts.lockout) refuses that, as it must for real sign-ins. Give it the request a sign-in form
    would bring, so tests that sign in with a password are counted and locked out like anyone else."""
    original = Client.login

    def login(self: Client, **credentials: Any) -> bool:
        credentials.setdefault("request", RequestFactory().post(reverse("login")))
        return original(self, **credentials)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Client, "login", login)
        yield


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """LocaleMiddleware leaves the last request's language active in the test thread: start and end
    every test in the default language so one test's Accept-Language never leaks into the next."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _fresh_reference_cache() -> None:
    """Each test starts with nothing cached from another test's (rolled-back) data."""
    reference.forget()


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    """Rate-limit counts (kefu.core.ratelimit, in the default cache) start at zero in every test: user
    ids are reused after a rolled-back test."""
    cache.clear()


@pytest.fixture
def make_user(db: None) -> Callable[..., User]:
    def make(role: Role = Role.AGENT, **kwargs: Any) -> User:
        return cast(User, UserFactory(role=role, **kwargs))

    return make


class ApiClient:
    """A test client that speaks JSON to /api/v1/ with a bearer token (or anonymously)."""

    def __init__(self, token: str | None) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def _call(self, method: str, path: str, body: Any = None, **extra: Any) -> Any:
        kwargs: dict[str, Any] = {"headers": {**self.headers, **extra.pop("headers", {})}}
        if body is not None:
            kwargs["data"] = json.dumps(body)
            kwargs["content_type"] = "application/json"
        return getattr(self.client, method)(f"/api/v1{path}", **kwargs, **extra)

    def get(self, path: str, **extra: Any) -> Any:
        return self._call("get", path, **extra)

    def post(self, path: str, body: Any = None, **extra: Any) -> Any:
        return self._call("post", path, body, **extra)

    def patch(self, path: str, body: Any = None, **extra: Any) -> Any:
        return self._call("patch", path, body, **extra)

    def put(self, path: str, body: Any = None, **extra: Any) -> Any:
        return self._call("put", path, body, **extra)

    def delete(self, path: str, **extra: Any) -> Any:
        return self._call("delete", path, **extra)


@pytest.fixture
def api_as(db: None) -> Callable[[User | None], ApiClient]:
    """``api_as(user)`` → a JSON client authenticated with a fresh token of ``user`` (None: anonymous)."""

    def make(user: User | None) -> ApiClient:
        if user is None:
            return ApiClient(None)
        if user.is_portal_user and not portal_api_allowed(user):
            # Portal users hold tokens only once an administrator allowed it on their portal account.
            account = user.portal_account
            account.api_access = True
            account.save(update_fields=["api_access"])
        _, plain = token_create(actor=SYSTEM, user=user, name="test")
        return ApiClient(plain)

    return make


BROWSER_NOT_RUN = "BROWSER TESTS DID NOT RUN"


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """Make a missing Chromium impossible to overlook (tests/browser/conftest.py skips or fails)."""
    reasons: set[str] = set()
    for outcome in ("skipped", "failed", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            text = str(getattr(report, "longrepr", "") or "")
            if BROWSER_NOT_RUN in text:
                start = text.index(BROWSER_NOT_RUN)
                reasons.add(text[start:].split("\n", maxsplit=1)[0].rstrip("')\""))
    for reason in sorted(reasons):
        terminalreporter.write_sep("!", reason, red=True, bold=True)
