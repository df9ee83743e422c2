"""Who sees a ticket (kefu.tickets.access): one predicate for the queue, the ticket page, the counts and
the search — team member, assignee, creator, watcher, the customer's account agent, the owner of a work
order on it; nobody else below the wide-scope roles."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, cast

import pytest
from django.utils import timezone

from kefu.accounts.enums import Role
from kefu.accounts.models import Team, User
from kefu.accounts.tests.factories import MembershipFactory, TeamFactory
from kefu.core.actors import SYSTEM
from kefu.customers.tests.factories import new_customer
from kefu.tickets import access, selectors
from kefu.tickets.access import may_see, reach, users_who_may_see
from kefu.tickets.enums import Department, SubtaskStatus
from kefu.tickets.models import Ticket
from kefu.tickets.services.edit import ticket_assign
from kefu.tickets.services.work_orders import subtask_create, subtask_set_status
from kefu.tickets.tests.factories import UserClient, new_ticket

pytestmark = pytest.mark.django_db

SUBJECT = "冷冻海鲜延误三天未送达"


def _work_order(ticket: Ticket, owner: User | None) -> Any:
    return subtask_create(
        actor=SYSTEM,
        ticket=ticket,
        department=Department.WAREHOUSE,
        title="核查库存",
        deadline=timezone.now() + dt.timedelta(days=1),
        problem_description="客户称少件",
        support_needed="请盘点",
        assignee=owner,
    )


def _relate(relation: str, user: User, ticket: Ticket) -> None:
    """Make ``user`` related to ``ticket`` (of another team) in one way."""
    if relation == "team member":
        assert ticket.team is not None
        MembershipFactory(team=ticket.team, user=user)
    elif relation == "assignee":
        ticket_assign(actor=SYSTEM, ticket=ticket, assignee=user)
    elif relation == "watcher":
        ticket.watchers.add(user)
    elif relation == "account agent":
        assert ticket.customer is not None
        ticket.customer.account_agent = user
        ticket.customer.save(update_fields=["account_agent"])
    elif relation == "work order owner":
        _work_order(ticket, user)
    else:
        raise AssertionError(relation)


@pytest.fixture
def elsewhere() -> Team:
    return cast(Team, TeamFactory(name="华南二组"))


@pytest.fixture
def outsider(make_user: Callable[..., User]) -> User:
    """An agent of a third team."""
    user = make_user(Role.AGENT, username="wang.wu")
    MembershipFactory(team=TeamFactory(name="西北组"), user=user)
    return user


def _sees_everywhere(user: User, ticket: Ticket) -> dict[str, Any]:
    """What ``user`` notices of ``ticket``, through each surface, in a fresh request each."""
    client = UserClient(user)
    fresh = User.objects.get(pk=user.pk)
    return {
        "page": client.get(f"/tickets/{ticket.number}/").status_code,
        "queue": ticket.number in client.get("/tickets/?queue=all").content.decode(),
        "search": ticket.number in client.get("/tickets/?queue=all&q=冷冻海鲜").content.decode(),
        "count": selectors.queue_counts(fresh)["all"],
    }


SEEN = {"page": 200, "queue": True, "search": True, "count": 1}
UNSEEN = {"page": 404, "queue": False, "search": False, "count": 0}


@pytest.mark.parametrize(
    "relation", ["team member", "assignee", "watcher", "account agent", "work order owner"]
)
def test_each_relation_to_a_ticket_lets_an_agent_see_it_everywhere(relation, make_user, elsewhere, outsider):
    # given a ticket of another team, and an agent related to it in one way
    ticket = new_ticket(team=elsewhere, customer=new_customer(), subject=SUBJECT)
    agent = make_user(Role.AGENT, username="li.si")
    MembershipFactory(team=TeamFactory(name="华东一组"), user=agent)
    assert _sees_everywhere(agent, ticket) == UNSEEN

    # when the relation is made
    _relate(relation, agent, ticket)

    # then the page, the queue, the search and the count all show it — and still not to the outsider
    assert _sees_everywhere(agent, ticket) == SEEN
    assert _sees_everywhere(outsider, ticket) == UNSEEN


def test_many_account_customers_are_named_by_a_subquery_with_the_same_result(
    make_user, elsewhere, outsider, monkeypatch
):
    # given an account agent of more customers than the scope writes out as literal ids
    monkeypatch.setattr(access, "ACCOUNT_IDS_LITERAL_MAX", 1)
    agent = make_user(Role.AGENT, username="li.si")
    ticket = new_ticket(team=elsewhere, customer=new_customer(account_agent=agent), subject=SUBJECT)
    new_customer(account_agent=agent)

    # then the ticket shows everywhere, through the subquery
    assert "IN (SELECT" in str(access.visible_tickets(User.objects.get(pk=agent.pk)).query)
    assert _sees_everywhere(agent, ticket) == SEEN
    assert _sees_everywhere(outsider, ticket) == UNSEEN


def test_past_the_literal_limit_no_more_account_ids_are_read_than_needed(make_user, monkeypatch):
    # given an account agent of five customers, with literal ids written out for at most two
    monkeypatch.setattr(access, "ACCOUNT_IDS_LITERAL_MAX", 2)
    agent = make_user(Role.AGENT, username="li.si")
    for _ in range(5):
        new_customer(account_agent=agent)

    # then reading the agent's reach fetches three ids — enough to know the subquery is needed
    reach = access.reach(User.objects.get(pk=agent.pk))
    assert len(reach.accounts) == 3
    assert "IN (SELECT" in str(access.visible_tickets(User.objects.get(pk=agent.pk)).query)


def test_the_creator_sees_a_ticket_they_filed_for_another_team(make_user, elsewhere, outsider):
    agent = make_user(Role.AGENT, username="li.si")

    ticket = new_ticket(actor=agent, team=elsewhere, customer=new_customer(), subject=SUBJECT)

    assert _sees_everywhere(agent, ticket) == SEEN
    assert _sees_everywhere(outsider, ticket) == UNSEEN


@pytest.mark.parametrize("role", [Role.MANAGER, Role.QA, Role.ANALYST, Role.ADMIN])
def test_wide_roles_see_every_ticket(make_user, elsewhere, role):
    ticket = new_ticket(team=elsewhere, customer=new_customer(), subject=SUBJECT)

    assert _sees_everywhere(make_user(role), ticket) == SEEN


def test_a_done_work_order_still_shows_its_ticket_but_leaves_my_work_orders_queue(make_user, elsewhere):
    owner = make_user(Role.AGENT, username="li.si")
    ticket = new_ticket(team=elsewhere, subject=SUBJECT)
    order = _work_order(ticket, owner)
    client = UserClient(owner)
    listed = client.get("/tickets/?queue=work_orders").content.decode()

    subtask_set_status(actor=owner, subtask=order, status=SubtaskStatus.DONE)

    assert ticket.number in listed
    assert ticket.number not in client.get("/tickets/?queue=work_orders").content.decode()
    assert client.get(f"/tickets/{ticket.number}/").status_code == 200


def test_my_work_orders_queue_and_count(make_user, elsewhere, api_as):
    owner = make_user(Role.AGENT, username="li.si")
    mine = new_ticket(team=elsewhere, subject="仓库少件")
    _work_order(mine, owner)
    others = new_ticket(team=elsewhere, subject="别人的协作单")
    _work_order(others, make_user(Role.AGENT))
    watched = new_ticket(team=elsewhere, subject="只是关注")
    watched.watchers.add(owner)

    listed = api_as(owner).get("/tickets?queue=work_orders").json()["items"]

    assert [t["number"] for t in listed] == [mine.number]
    assert selectors.queue_counts(User.objects.get(pk=owner.pk))["work_orders"] == 1
    page = UserClient(owner).get("/tickets/counts/?queue=work_orders").content.decode()
    assert 'data-testid="queue-work_orders"' in page


def test_the_personal_sets_are_read_in_one_query(make_user, elsewhere, django_assert_num_queries):
    agent = make_user(Role.AGENT)
    MembershipFactory(team=elsewhere, user=agent)
    watched, ordered, account = (new_ticket(team=TeamFactory(), subject=f"工单{i}") for i in range(3))
    watched.watchers.add(agent)
    _work_order(ordered, agent)
    customer = new_customer(account_agent=agent)

    fresh = User.objects.get(pk=agent.pk)
    with django_assert_num_queries(1):
        sets = reach(fresh)
        reach(fresh)  # read once per user object

    assert sets.team_ids == (elsewhere.pk,)
    assert sets.watched == (watched.pk,)
    assert sets.work_orders == sets.open_work_orders == (ordered.pk,)
    assert sets.accounts == (customer.pk,)
    assert account.pk not in (*sets.watched, *sets.work_orders)


def test_may_see_and_users_who_may_see(make_user, elsewhere, outsider):
    member = make_user(Role.AGENT)
    MembershipFactory(team=elsewhere, user=member)
    manager = make_user(Role.MANAGER)
    portal_of_another_org = make_user(Role.CUSTOMER)
    ticket = new_ticket(team=elsewhere)

    assert may_see(member, ticket)
    assert not may_see(outsider, ticket)
    assert users_who_may_see(ticket, [outsider, manager, portal_of_another_org, member]) == [manager, member]


@pytest.mark.parametrize("relation", ["assignee", "watcher", "account agent", "work order owner"])
def test_a_user_of_no_team_sees_what_they_are_related_to(relation, make_user, elsewhere, outsider):
    # given an agent of no team (whose scope is only the personal sets) and a ticket of another team
    ticket = new_ticket(team=elsewhere, customer=new_customer(), subject=SUBJECT)
    new_ticket(team=elsewhere, customer=new_customer(), subject=SUBJECT)
    agent = make_user(Role.AGENT, username="li.si")
    assert _sees_everywhere(agent, ticket) == UNSEEN

    _relate(relation, agent, ticket)

    assert _sees_everywhere(agent, ticket) == SEEN
    assert _sees_everywhere(outsider, ticket) == UNSEEN
