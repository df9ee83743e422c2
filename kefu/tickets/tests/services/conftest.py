from __future__ import annotations

from collections.abc import Callable

import pytest

from kefu.accounts.enums import Role
from kefu.accounts.models import User
from kefu.core.models import AuditEvent


@pytest.fixture
def agent(make_user: Callable[..., User]) -> User:
    return make_user(Role.AGENT, username="xiaoli")


@pytest.fixture
def colleague(make_user: Callable[..., User]) -> User:
    return make_user(Role.AGENT, username="wangfang")


@pytest.fixture
def lead(make_user: Callable[..., User]) -> User:
    return make_user(Role.LEAD, username="zuzhang")


def audit_count() -> int:
    return AuditEvent.objects.count()
