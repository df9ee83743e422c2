"""Fixtures for the agent-console tests: a team, an agent in it, a client signed in as that agent."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import cast

import pytest
from django.core.cache import cache

from kefu.accounts.enums import Role
from kefu.accounts.models import Team, User
from kefu.accounts.tests.factories import MembershipFactory, TeamFactory
from kefu.tickets.tests.factories import UserClient


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    """Presence and rate limits live in the cache: no test sees another's."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def team() -> Team:
    return cast(Team, TeamFactory(name="华东一组"))


@pytest.fixture
def agent(make_user: Callable[..., User], team: Team) -> User:
    user = make_user(Role.AGENT, username="xiaoli", full_name="李小丽")
    MembershipFactory(team=team, user=user)
    return user


@pytest.fixture
def as_agent(agent: User) -> UserClient:
    return UserClient(agent)
