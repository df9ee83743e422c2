"""Fixtures of the customer page tests (helpers in ``pages``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from kefu.customers.models import Customer
from kefu.customers.tests.pages import UserClient, shunda


@pytest.fixture
def as_role(make_user: Callable[..., Any]) -> Callable[..., UserClient]:
    """A client signed in as a new user of ``role``."""

    def make(role: Any, **kwargs: Any) -> UserClient:
        return UserClient(make_user(role, **kwargs))

    return make


@pytest.fixture
def customer(db: None) -> Customer:
    """The customer the pages show: :func:`pages.shunda`."""
    return shunda()
