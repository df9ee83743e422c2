"""Reference data in the reader's language (kefu.core.i18n): statuses, teams, tags, custom-field labels
and choices on the ticket pages, in errors, in the timeline's history — and the API framework's own
validation messages in both languages."""

from __future__ import annotations

from typing import Any

import pytest

from kefu.accounts.enums import Role
from kefu.accounts.tests.factories import MembershipFactory, TeamFactory
from kefu.core.errors import ValidationFailed
from kefu.core.models import AuditEvent
from kefu.tickets.enums import StatusCategory
from kefu.tickets.models import Tag
from kefu.tickets.services.lifecycle import ticket_transition
from kefu.tickets.tests.factories import LOGISTICS_FIELDS, UserClient, new_ticket, status

pytestmark = pytest.mark.django_db
EN = {"Accept-Language": "en"}


@pytest.fixture
def agent(make_user: Any) -> Any:
    user = make_user(Role.AGENT, username="xiaoli", full_name="李小丽")
    MembershipFactory(team=TeamFactory(name="华东一组", name_en="East China 1"), user=user)
    return user


@pytest.fixture
def ticket(agent: Any) -> Any:
    ticket = new_ticket(
        actor=agent,
        subject="冷链包裹延误",
        team=agent.teams.get(),
        assignee=agent,
        category="delay",
        custom_fields=LOGISTICS_FIELDS,
        tags=["加急"],
    )
    ticket = ticket_transition(actor=agent, ticket=ticket, status=status(StatusCategory.OPEN))
    return ticket_transition(actor=agent, ticket=ticket, status=status(StatusCategory.PENDING))


def test_ticket_page_in_english_names_reference_data_in_english(agent: Any, ticket: Any) -> None:
    page = UserClient(agent).get(f"/tickets/{ticket.number}/", headers=EN).text
    assert "East China 1" in page
    assert "华东一组" not in page
    assert ">Urgent<" in page  # the tag, seeded with its English name
    assert "General cargo" in page  # custom-field choices
    assert "Line haul" in page
    assert "Open → Waiting on customer" in page  # the timeline's status change, stored in Chinese
    assert "处理中" not in page
    assert "等待客户回复" not in page
    chinese = UserClient(agent).get(f"/tickets/{ticket.number}/").text
    assert "处理中 → 等待客户回复" in chinese
    assert "华东一组" in chinese


def test_audit_stores_the_site_language_whatever_the_request_language(agent: Any, ticket: Any) -> None:
    client = UserClient(agent)
    client.post(
        f"/tickets/{ticket.number}/status/",
        {"status": status(StatusCategory.OPEN).code, "version": ticket.version},
        headers=EN,
    )
    changes = AuditEvent.objects.filter(object_id=str(ticket.pk)).order_by("-id").first()
    assert changes is not None
    assert changes.changes["status"] == ["等待客户回复", "处理中"]


def test_custom_field_errors_and_choices_follow_the_language(agent: Any) -> None:
    from django.utils import translation

    with translation.override("en"), pytest.raises(ValidationFailed) as caught:
        new_ticket(actor=agent, category="delay", custom_fields={"cargo_type": "煤炭"})
    fields = caught.value.fields
    assert fields["custom_fields.cargo_type"] == [
        "Choices for “Cargo type”: General cargo, Cold-chain cargo, Dangerous goods, Valuables, "
        "Fragile goods, Cross-border parcel"
    ]
    assert fields["custom_fields.exception_node"] == ["“Exception node” is required"]
    # An English choice name is accepted and stored as the choice itself.
    created = new_ticket(
        actor=agent,
        category="delay",
        team=agent.teams.get(),
        custom_fields={
            "cargo_type": "Cold-chain cargo",
            "exception_node": "Line haul",
            "expected_solution": "赔偿",
        },
    )
    assert created.custom_fields == {
        "cargo_type": "冷链货物",
        "exception_node": "干线运输",
        "expected_solution": "赔偿",
    }


def test_tags_keep_their_stored_name_and_show_the_english_one(agent: Any, ticket: Any) -> None:
    assert Tag.objects.get(name="加急").name_en == "Urgent"
    queue = UserClient(agent).get("/tickets/", headers=EN).text
    assert ">Urgent<" in queue


@pytest.mark.parametrize(
    ("language", "messages"),
    [
        ("en", {"subject": ["Field required"], "priority": ["Choices: 'urgent', 'high', 'normal' or 'low'"]}),
        ("zh-hans", {"subject": ["必填字段"], "priority": ["可选值：'urgent', 'high', 'normal' or 'low'"]}),
    ],
)
def test_api_schema_errors_in_both_languages(api_as: Any, agent: Any, language: str, messages: Any) -> None:
    response = api_as(agent).post(
        "/tickets",
        {"channel": "phone", "type": "inquiry", "priority": "asap", "waybills": ["SF123456789012"] * 51},
        headers={"Accept-Language": language},
    )
    assert response.status_code == 422
    fields = response.json()["fields"]
    assert {k: fields[k] for k in messages} == messages
    assert fields["waybills"] == (["At most 50 items"] if language == "en" else ["最多 50 项"])
