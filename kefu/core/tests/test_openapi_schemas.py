"""The OpenAPI document describes what each operation accepts: schemas are published under their class
name, so two request schemas with one name made the customer-assign endpoint advertise the ticket
assign body (assignee, team, version) while it takes ``agent_id``."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel

from kefu.accounts.enums import Role
from kefu.api import api
from kefu.customers.tests.factories import new_customer


def _schema_classes() -> list[type[BaseModel]]:
    """kefu's schemas: ninja's ``Schema`` and the plain response base ``kefu.core.api.Out`` alike."""
    found: list[type[BaseModel]] = []
    pending: list[type[BaseModel]] = [BaseModel]
    while pending:
        for sub in pending.pop().__subclasses__():
            pending.append(sub)
            if sub.__module__.startswith("kefu."):
                found.append(sub)
    return found


def test_schemas_that_share_a_name_are_the_same_schema() -> None:
    """The document keeps one of two same-named schemas: they must not differ."""
    api.get_openapi_schema()  # imports every router's schemas
    by_name: dict[str, dict[str, list[str]]] = {}
    for cls in _schema_classes():
        shape = json.dumps(cls.model_json_schema(), sort_keys=True)
        by_name.setdefault(cls.__name__, {}).setdefault(shape, []).append(
            f"{cls.__module__}.{cls.__qualname__}"
        )
    assert {name: shapes for name, shapes in by_name.items() if len(shapes) > 1} == {}


def _request_schema(path: str, method: str) -> dict[str, Any]:
    document = api.get_openapi_schema()
    ref = document["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema: dict[str, Any] = document["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    return schema


@pytest.mark.django_db
def test_customer_assign_schema_is_what_the_handler_takes(api_as: Any, make_user: Any) -> None:
    schema = _request_schema("/api/v1/customers/{public_id}/assign", "post")
    assert set(schema["properties"]) == {"agent_id"}
    assert schema.get("additionalProperties") is False
    lead, agent = make_user(Role.LEAD), make_user(Role.AGENT)
    customer = new_customer(name="华东快运有限公司")
    client = api_as(lead)
    assert client.post(f"/customers/{customer.public_id}/assign", {"agent_id": agent.pk}).status_code == 200
    refused = client.post(f"/customers/{customer.public_id}/assign", {"assignee": agent.pk})
    assert refused.status_code == 422
    assert list(refused.json()["fields"]) == ["assignee"]
