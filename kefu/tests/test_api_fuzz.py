"""Schema fuzz: schemathesis generates requests from the API's own OpenAPI schema — valid and invalid
bodies, odd strings, huge numbers, unknown ids — and sends them in-process to the Django WSGI app as an
agent and as an administrator. No answer may be a server error. ``KEFU_FUZZ_EXAMPLES`` (default 6 per operation and role) bounds the run."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any, cast

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from kefu.accounts.enums import Role
from kefu.accounts.models import User
from kefu.accounts.services import token_create
from kefu.accounts.tests.factories import MembershipFactory, TeamFactory, UserFactory
from kefu.api import api
from kefu.core.actors import SYSTEM
from kefu.customers.tests.factories import ContactFactory, CustomerFactory
from kefu.tickets.tests.factories import new_ticket

EXAMPLES = int(os.environ.get("KEFU_FUZZ_EXAMPLES", "6"))

# The coverage phase sends every boundary case the schema defines (hundreds per operation): too slow for
# every test run. Fuzzing with a fixed seed keeps the run bounded and repeatable.
CONFIG = SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": False}}})
schema = schemathesis.openapi.from_dict(api.get_openapi_schema(), config=CONFIG)
schema.app = WSGIHandler()


@pytest.fixture(autouse=True)
def _keep_the_test_connection() -> Iterator[None]:
    """Django closes the database connection at the end of each request; on PostgreSQL that ends the
    test's transaction. Django's own test client switches that off during a request: so does this."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture(params=[Role.AGENT, Role.ADMIN])
def bearer(request: pytest.FixtureRequest, db: None) -> dict[str, str]:
    """A token of an agent (in a team, with a customer and a ticket to find) or of an administrator."""
    team = TeamFactory()
    user = cast(User, UserFactory(role=request.param))
    MembershipFactory(team=team, user=user)
    customer = CustomerFactory()
    ContactFactory(customer=customer)
    new_ticket(actor=user, customer=customer, team=team, waybills=["SF1234567890"])
    _, plain = token_create(actor=SYSTEM, user=user, name="fuzz")
    return {"Authorization": f"Bearer {plain}"}


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_input_makes_the_api_fail(case: Any, bearer: dict[str, str]) -> None:
    response = case.call(headers=bearer)

    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} {case.query or ''} {case.body!r:.300}: "
        f"{response.status_code} {response.text[:300]}"
    )
