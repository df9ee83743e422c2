"""``seed_demo``: the demo department of a Chinese logistics company, its customers, 90 days of ticket
history and today's live queue, and the scenes that show every feature to the demo logins."""

from __future__ import annotations

import random
from typing import Any

from django.db import transaction
from faker import Faker

from kefu.accounts.enums import STAFF_ROLES, Role
from kefu.accounts.models import Team, User
from kefu.core.actors import SYSTEM
from kefu.customers.enums import Tier
from kefu.customers.models import Customer
from kefu.demo import scenes
from kefu.demo.bulk import CHANNEL_MIX, PRIORITY_MIX, _waybill, analyze, seed_tickets
from kefu.demo.people import (
    _LOGIN_ROLES,
    DEMO_TEAM,
    TEAM_FOR_TYPE,
    TEAMS,
    _demo_usernames,
    _seed_customers,
    _seed_follow_through,
    _seed_portal,
    _seed_staff,
)
from kefu.demo.stories import add_story_fields, make_story

DEMO_TICKETS = 2000  # of which DEMO_LIVE_TICKETS through the services (audited), the rest bulk history
DEMO_LIVE_TICKETS = 200


def demo_logins(seed: int = 20261125) -> list[tuple[str, str]]:
    """(role, username): one demo login per role, each signing in with :data:`DEMO_PASSWORD`.

    When the demo is in the database, the logins are read from it (it may have been seeded with another
    seed): per role, the staff member with the lowest employee number.
    """
    logins = _demo_usernames(seed)
    if demo_exists():
        for role in STAFF_ROLES:
            user = (
                User.objects.filter(role=role, employee_no__startswith="KF").order_by("employee_no").first()
            )
            if user is not None:
                logins[str(role)] = user.username
    return [(role, logins[role]) for role in _LOGIN_ROLES]


def demo_exists() -> bool:
    return Team.objects.filter(code__in=[code for code, *_ in TEAMS]).exists()


@transaction.atomic
def seed_demo(*, seed: int) -> bool:
    """Create the demo department and its customers; False (and nothing done) if the demo exists."""
    if demo_exists():
        return False
    rng = random.Random(seed)
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    staff = _seed_staff(rng)
    add_story_fields()
    customers = _seed_customers(rng, fake, staff)
    _seed_follow_through(rng, staff, customers)
    portal_customer = _seed_portal(rng, staff, customers)
    seed_tickets(tickets=DEMO_TICKETS - DEMO_LIVE_TICKETS, seed=seed, progress=False, pool_size=6000)
    made = scenes.seed_scenes(rng, staff=staff, customers=customers, portal_customer=portal_customer)
    _seed_live_queue(rng, staff, customers, count=DEMO_LIVE_TICKETS - made)
    analyze()
    return True


def _seed_live_queue(
    rng: random.Random, staff: dict[str, Any], customers: list[Customer], count: int
) -> None:
    """Today's queue through the services, so those tickets have the audit trail, conversation and
    lifecycle real use produces. A VIP's ticket goes to the key-account team and their account agent."""
    from kefu.tickets.enums import AuthorKind, StatusCategory, Visibility
    from kefu.tickets.services.common import default_status
    from kefu.tickets.services.create import ticket_create
    from kefu.tickets.services.lifecycle import ticket_close, ticket_resolve, ticket_transition
    from kefu.tickets.services.messages import message_add

    teams: dict[str, Team] = staff["teams"]
    agents = {
        code: [u for u in team.members.order_by("username") if u.role in (Role.AGENT, Role.LEAD)]
        for code, team in teams.items()
    }
    channels, channel_weights = zip(*CHANNEL_MIX, strict=True)
    priorities, priority_weights = zip(*PRIORITY_MIX, strict=True)
    ordered = sorted(customers, key=lambda c: c.customer_no)
    for _ in range(count):
        customer = rng.choice(ordered)
        story = make_story(rng, origin=customer.city.removesuffix("市"))
        contact = customer.contacts.order_by("-is_primary", "id").first()
        vip = customer.tier == Tier.VIP
        code = DEMO_TEAM if vip else TEAM_FOR_TYPE.get(story.type, "after-sales")
        if vip and customer.account_agent is not None:
            assignee: User | None = customer.account_agent
        else:
            assignee = rng.choice(agents[code]) if agents[code] and rng.random() < 0.7 else None
        waybill = _waybill(rng)
        ticket = ticket_create(
            actor=assignee or rng.choice(agents[code] or staff["users"]),
            data=scenes.story_ticket(
                story,
                channel=rng.choices(channels, channel_weights)[0],
                priority=rng.choices(priorities, priority_weights)[0],
                customer=customer,
                contact=contact,
                team=teams[code],
                assignee=assignee,
                tags=rng.sample(story.tags, rng.choice((0, 0, 1, 2))),
                waybills=[waybill],
            ),
        )
        if assignee is None:
            continue
        roll = rng.random()
        done = roll < 0.15
        for turn in story.conversation(rng.choice((1, 1, 2, 3)), done=done):
            if turn.kind == "customer":
                message_add(
                    actor=SYSTEM,  # the customer on the phone: the system writes it down
                    ticket=ticket,
                    body=turn.body,
                    visibility=Visibility.PUBLIC,
                    author_kind=AuthorKind.CUSTOMER,
                    contact=contact,
                )
            else:
                message_add(
                    actor=assignee,
                    ticket=ticket,
                    body=turn.body,
                    visibility=Visibility.INTERNAL if turn.kind == "internal" else Visibility.PUBLIC,
                )
        if done:
            ticket = ticket_resolve(actor=assignee, ticket=ticket, solution_summary=story.summary(waybill))
            if roll < 0.08:
                ticket_close(actor=assignee, ticket=ticket, satisfaction_confirmed=True)
        elif roll < 0.35:
            ticket_transition(actor=assignee, ticket=ticket, status=default_status(StatusCategory.PENDING))
