"""Tickets named in forms and request bodies (console.other_ticket / other_tickets)."""

from __future__ import annotations

import pytest

from kefu.accounts.tests.factories import TeamFactory
from kefu.core.errors import ValidationFailed
from kefu.tickets import console
from kefu.tickets.tests.factories import new_ticket

pytestmark = pytest.mark.django_db


def test_a_list_of_numbers_and_ids_is_resolved_in_one_query(agent, team, django_assert_num_queries):
    first, second, third = (new_ticket(team=team, subject=f"工单{i}") for i in range(3))
    agent.get_all_permissions()  # read once per request, before this

    with django_assert_num_queries(2):  # the user's access sets (access.reach), then the tickets
        found = console.other_tickets(
            agent,
            [f" {first.number.lower()} ", second.public_id, third.number, first.number],
            field="tickets",
        )

    assert found == [first, second, third]


def test_a_ticket_the_user_cannot_see_is_refused_like_a_missing_one(agent, team):
    mine = new_ticket(team=team)
    hidden = new_ticket(team=TeamFactory())

    with pytest.raises(ValidationFailed) as exc:
        console.other_tickets(agent, [mine.number, hidden.number], field="numbers")

    assert exc.value.fields == {"numbers": [f"工单 {hidden.number} 不存在"]}
