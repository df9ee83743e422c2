"""Scenes: the demo tickets that show each feature to the demo agent and lead (both in the key-account
team) — the portal customer's tickets followed end to end, work orders open, overdue and done, calls
answered and missed with callbacks due, a merged duplicate and linked tickets, a problem with its
incidents, a reopened ticket, and unread notifications. Everything goes through the services, with the
audit trail and the notifications they write (assigned, mentioned, customer replied, resolution
rejected)."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from typing import Any

from django.utils import timezone

from kefu.accounts.models import Team, User
from kefu.core import reference
from kefu.core.actors import SYSTEM
from kefu.customers.enums import Tier
from kefu.customers.models import Contact, Customer
from kefu.demo.bulk import _waybill
from kefu.demo.people import DEMO_TEAM, PORTAL_USERNAME
from kefu.demo.stories import COLD_CHAIN, Story, make_story, story_fields
from kefu.tickets import calls
from kefu.tickets.enums import (
    AuthorKind,
    CallOutcome,
    Department,
    LinkKind,
    Priority,
    TicketType,
    Visibility,
)
from kefu.tickets.models import Category, CustomField, Subtask, Ticket
from kefu.tickets.services.create import TicketData, ticket_create
from kefu.tickets.services.edit import ticket_assign, ticket_update
from kefu.tickets.services.incidents import incident_link
from kefu.tickets.services.lifecycle import ticket_resolve
from kefu.tickets.services.merge_split_link import ticket_link, ticket_merge
from kefu.tickets.services.messages import message_add
from kefu.tickets.services.problems import problem_mark, problem_post_update
from kefu.tickets.services.reopening import resolution_accept, resolution_reject
from kefu.tickets.services.rules import CUSTOMER_TYPES
from kefu.tickets.services.work_orders import subtask_create, subtask_set_status

# The Zhengzhou outage of the problem scene: a rainstorm stops the sorting lines of the hub every trunk
# line through Zhengzhou passes, and every incident is a delay there.
OUTAGE_CITY = "郑州"


def category(code: str) -> Category | None:
    return reference.cached(f"demo-category:{code}", lambda: Category.objects.filter(code=code).first())


def field_specs(code: str) -> list[tuple[str, str, list[Any]]]:
    return [
        (f.key, f.kind, list(f.choices))
        for f in CustomField.objects.filter(category__code=code).order_by("position")
    ]


def story_ticket(
    story: Story,
    *,
    channel: str,
    type: str | None = None,
    priority: str = Priority.NORMAL,
    customer: Customer | None = None,
    contact: Contact | None = None,
    team: Team | None = None,
    assignee: User | None = None,
    tags: Sequence[str] = (),
    waybills: Sequence[str] = (),
) -> TicketData:
    """A demo ticket told by ``story``: its subject, description, type (unless given), category and
    custom fields, with who files it where."""
    return TicketData(
        subject=story.subject,
        description=story.description,
        channel=channel,
        type=type or story.type,
        category=category(story.category),
        priority=priority,
        customer=customer,
        contact=contact,
        team=team,
        assignee=assignee,
        custom_fields=story_fields(story, field_specs(story.category)),
        tags=tags,
        waybills=waybills,
    )


class _Scene:
    """What the scenes share: the demo team, its agent and lead, and a way to open a story's ticket."""

    def __init__(self, rng: random.Random, staff: dict[str, Any]) -> None:
        self.rng = rng
        self.team: Team = staff["teams"][DEMO_TEAM]
        self.agent: User = staff["demo_agent"]
        self.lead: User = staff["demo_lead"]
        self.made = 0

    def _team_of(self, actor: User) -> Team | None:
        """The demo team, or for a staff member outside it their own team (staff may only hand a ticket
        to a team they are in)."""
        if actor.memberships.filter(team=self.team).exists():
            return self.team
        membership = actor.memberships.select_related("team").first()
        return membership.team if membership else None

    def open(
        self,
        story: Story,
        *,
        customer: Customer,
        actor: Any,
        channel: str,
        assignee: User | None = None,
        author_kind: str = AuthorKind.AGENT,
        waybill: str | None = None,
        priority: str = "normal",
    ) -> tuple[Ticket, str]:
        waybill = waybill or _waybill(self.rng)
        by_customer = author_kind == AuthorKind.CUSTOMER
        ticket = ticket_create(
            actor=actor,
            author_kind=author_kind,
            data=story_ticket(
                story,
                channel=channel,
                type=TicketType.COMPLAINT if by_customer and story.type not in CUSTOMER_TYPES else None,
                priority=priority,
                customer=customer,
                contact=primary(customer),
                team=None if by_customer else self._team_of(actor),
                assignee=assignee,
                tags=[] if by_customer else list(story.tags[:1]),
                waybills=[waybill],
            ),
        )
        if by_customer:  # a customer files a complaint with no team or tags; the lead triages it
            ticket = ticket_update(
                actor=self.lead,
                ticket=ticket,
                version=None,
                changes={"team": self.team, "type": story.type},
                add_tags=list(story.tags[:1]),
            )
        self.made += 1
        return ticket, waybill

    def say(
        self, ticket: Ticket, story: Story, turns: int, *, agent: User, customer_actor: Any = SYSTEM
    ) -> None:
        """The first ``turns`` turns of the story's conversation; the customer speaks as ``customer_actor``
        (the portal user) or, without one, as the contact on the phone."""
        for turn in story.conversation(turns, done=False):
            if turn.kind == "customer":
                message_add(
                    actor=customer_actor,
                    ticket=ticket,
                    body=turn.body,
                    visibility=Visibility.PUBLIC,
                    author_kind=AuthorKind.CUSTOMER,
                    contact=ticket.contact,
                )
            else:
                message_add(
                    actor=agent,
                    ticket=ticket,
                    body=turn.body,
                    visibility=Visibility.INTERNAL if turn.kind == "internal" else Visibility.PUBLIC,
                )


def primary(customer: Customer) -> Contact | None:
    return customer.contacts.order_by("-is_primary", "id").first()


def seed_scenes(
    rng: random.Random, *, staff: dict[str, Any], customers: list[Customer], portal_customer: Customer
) -> int:
    """Seed every scene; returns how many tickets they opened."""
    scene = _Scene(rng, staff)
    _portal_customer(scene, portal_customer)
    vips = [c for c in customers if c.tier == Tier.VIP and c.pk != portal_customer.pk]
    _work_orders(scene, vips, staff)
    _calls(scene, portal_customer, vips)
    _merged_and_linked(scene, vips)
    _problem(scene, vips)
    return scene.made


def _portal_customer(scene: _Scene, customer: Customer) -> None:
    """The demo portal customer, a VIP looked after by the demo agent (their account agent): one ticket
    mid-conversation, one waiting for the customer's confirmation, one confirmed and closed, one the
    customer reopened because it was not solved."""
    portal_user = User.objects.get(portal_account__customer=customer, username=PORTAL_USERNAME)
    agent, lead = scene.agent, scene.lead
    origin = customer.city.removesuffix("市")
    now = timezone.now()

    # Mid-conversation: the customer wrote in the portal, the lead assigned it, the agent answered and
    # the customer replied; a work order to transport is open.
    story = make_story(scene.rng, category="delay", origin=origin, cargo_kinds=frozenset({COLD_CHAIN}))
    ticket, _ = scene.open(
        story, customer=customer, actor=portal_user, channel="web", author_kind=AuthorKind.CUSTOMER
    )
    ticket = ticket_assign(actor=lead, ticket=ticket, assignee=agent)
    scene.say(ticket, story, 3, agent=agent, customer_actor=portal_user)
    subtask_create(
        actor=agent,
        ticket=ticket,
        department=Department.TRANSPORT,
        title=f"核实{story.route.place(story.node)}滞留车辆与冷库温度",
        deadline=now + dt.timedelta(hours=2),
        problem_description=story.description,
        current_progress="已电话联系分拨中心值班主管，等待车辆位置与冷库温度记录。",
        support_needed="2 小时内反馈车辆位置、预计发车时间和冷库温度记录。",
        carrier_contact="干线调度 王师傅 +8613800138000",
        tracking_evidence=f"轨迹停在{story.route.place(story.node)}，{story.turns[0].body[:40]}",
    )

    # Resolved, waiting for the customer's confirmation: a damage claim, paid by finance (work order done).
    story = make_story(scene.rng, category="damage", origin=origin)
    ticket, waybill = scene.open(
        story, customer=customer, actor=portal_user, channel="web", author_kind=AuthorKind.CUSTOMER
    )
    ticket = ticket_assign(actor=lead, ticket=ticket, assignee=agent)
    scene.say(ticket, story, 3, agent=agent, customer_actor=portal_user)
    message_add(
        actor=agent,
        ticket=ticket,
        body=f"@{lead.username} {story.cargo.name}理赔材料齐全，赔付 {story.amount} 元，请审批。",
        visibility=Visibility.INTERNAL,
    )
    work_order = subtask_create(
        actor=agent,
        ticket=ticket,
        department=Department.FINANCE,
        title=f"支付理赔款 {story.amount} 元",
        deadline=now + dt.timedelta(days=1),
        problem_description=story.description,
        support_needed=f"按责任认定向客户支付 {story.amount} 元并回传付款凭证。",
    )
    subtask_set_status(actor=agent, subtask=work_order, status="done")
    message_add(actor=agent, ticket=ticket, body=story.resolution.body, visibility=Visibility.PUBLIC)
    ticket_resolve(actor=agent, ticket=ticket, solution_summary=story.summary(waybill))

    # Confirmed and closed by the customer in the portal.
    story = make_story(scene.rng, category="route-change", origin=origin)
    ticket, waybill = scene.open(
        story, customer=customer, actor=portal_user, channel="web", author_kind=AuthorKind.CUSTOMER
    )
    ticket = ticket_assign(actor=agent, ticket=ticket, assignee=agent)
    scene.say(ticket, story, 2, agent=agent, customer_actor=portal_user)
    message_add(actor=agent, ticket=ticket, body=story.resolution.body, visibility=Visibility.PUBLIC)
    ticket = ticket_resolve(actor=agent, ticket=ticket, solution_summary=story.summary(waybill))
    resolution_accept(actor=portal_user, ticket=ticket)

    # Reopened: the customer rejected the resolution in the portal.
    story = make_story(scene.rng, category="signing", origin=origin)
    ticket, waybill = scene.open(story, customer=customer, actor=agent, channel="phone", assignee=agent)
    scene.say(ticket, story, 1, agent=agent)
    message_add(actor=agent, ticket=ticket, body=story.resolution.body, visibility=Visibility.PUBLIC)
    ticket = ticket_resolve(actor=agent, ticket=ticket, solution_summary=story.summary(waybill))
    resolution_reject(
        actor=portal_user,
        ticket=ticket,
        reason=f"运费券收到了，但{story.route.destination}的派送员这周又把货直接放进了快递柜，请真正处理。",
    )


def _work_orders(scene: _Scene, vips: list[Customer], staff: dict[str, Any]) -> None:
    """An overdue work order to a carrier on the demo agent's ticket (the lead asks the agent to chase it),
    and a work order owned by the demo agent on another team's ticket (a damage claim of after-sales)."""
    agent, now = scene.agent, timezone.now()
    customer = scene.rng.choice(vips)
    story = make_story(scene.rng, category="loss", origin=customer.city.removesuffix("市"))
    ticket, waybill = scene.open(story, customer=customer, actor=agent, channel="phone", assignee=agent)
    scene.say(ticket, story, 2, agent=agent)
    overdue = subtask_create(
        actor=agent,
        ticket=ticket,
        department=Department.CARRIER,
        title=f"承运商查找{story.cargo.name}（{waybill}）",
        deadline=now + dt.timedelta(hours=1),
        problem_description=story.description,
        support_needed="调取出入库扫描和监控，确认货物去向。",
        carrier_contact="承运商客服主管 刘经理 +8613900139000",
        tracking_evidence=f"最后一条轨迹：{story.route.place(story.node)}",
    )
    # It was due yesterday afternoon and nobody answered: the deadline moves back, as if it had been.
    Subtask.objects.filter(pk=overdue.pk).update(
        deadline=now - dt.timedelta(hours=20), created_at=now - dt.timedelta(days=2)
    )
    message_add(
        actor=scene.lead,
        ticket=ticket,
        body=f"@{agent.username} 承运商查找{story.cargo.name}已超时 20 小时未回复，请今天电话催办，仍无结果按丢件理赔。",
        visibility=Visibility.INTERNAL,
    )

    other_team: Team = staff["teams"]["after-sales"]
    owner = other_team.members.filter(role="agent").order_by("username").first()
    story = make_story(scene.rng, category="damage", origin=customer.city.removesuffix("市"))
    waybill = _waybill(scene.rng)
    ticket = ticket_create(
        actor=owner,
        data=story_ticket(
            story,
            channel="email",
            customer=scene.rng.choice(vips),
            team=other_team,
            assignee=owner,
            waybills=[waybill],
        ),
    )
    scene.made += 1
    subtask_create(
        actor=owner,
        ticket=ticket,
        department=Department.OTHER,
        title="大客户组回访客户确认赔付方案",
        deadline=now + dt.timedelta(hours=6),
        problem_description=story.description,
        support_needed=f"请专属客服回访客户，确认接受赔付 {story.amount} 元。",
        assignee=agent,
    )


def _calls(scene: _Scene, customer: Customer, vips: list[Customer]) -> None:
    """The demo agent's calls today: answered (solved on the phone, and one that opened a ticket), a
    callback promised, and missed calls whose callbacks are due (domain.md: return within 5 minutes)."""
    agent, now = scene.agent, timezone.now()
    contact = primary(customer)
    phone = contact.phone if contact else "+8613800138000"
    story = make_story(scene.rng, category="delay", origin=customer.city.removesuffix("市"))
    calls.call_log_create(
        actor=agent,
        caller_number=phone,
        customer=customer,
        contact=contact,
        summary=f"客户查询{story.route.origin}发往{story.route.destination}的{story.cargo.name}到哪了，"
        f"已告知目前在{story.route.place(story.node)}，预计明天送达。",
        outcome=CallOutcome.RESOLVED,
    )
    other = scene.rng.choice(vips)
    other_contact = primary(other)
    story = make_story(scene.rng, category="damage", origin=other.city.removesuffix("市"))
    calls.call_log_create(
        actor=agent,
        caller_number=other_contact.phone if other_contact else phone,
        customer=other,
        contact=other_contact,
        summary=f"客户来电：{story.subject}，已建工单受理理赔。",
        outcome=CallOutcome.TICKET_CREATED,
        ticket=story_ticket(
            story, channel="phone", team=scene.team, assignee=agent, waybills=[_waybill(scene.rng)]
        ),
    )
    scene.made += 1
    calls.call_log_create(
        actor=agent,
        caller_number=phone,
        customer=customer,
        contact=contact,
        summary="客户询问上月理赔款到账时间，财务确认后回电。",
        outcome=CallOutcome.CALLBACK,
        callback_due_at=now + dt.timedelta(hours=2),
    )
    calls.call_log_create(
        actor=agent,
        caller_number="+8613912345678",
        summary="来电未接通（振铃 30 秒后客户挂断），陌生号码，需回电确认来意。",
        outcome=CallOutcome.NO_ANSWER,
        callback_due_at=now + dt.timedelta(minutes=5),
    )
    calls.call_log_create(
        actor=agent,
        caller_number=phone,
        customer=customer,
        contact=contact,
        summary="客户来电时坐席全忙未接通，应在 5 分钟内回电，已超时。",
        outcome=CallOutcome.NO_ANSWER,
        callback_due_at=now - dt.timedelta(minutes=10),
    )


def _merged_and_linked(scene: _Scene, vips: list[Customer]) -> None:
    """A customer reported one delay twice (phone and e-mail): the e-mail ticket is merged into the
    phone one. The damage claim for the same consignment is linked to the delay ticket."""
    agent, lead = scene.agent, scene.lead
    customer = scene.rng.choice(vips)
    story = make_story(scene.rng, category="delay", origin=customer.city.removesuffix("市"))
    first, waybill = scene.open(story, customer=customer, actor=agent, channel="phone", assignee=agent)
    scene.say(first, story, 1, agent=agent)
    duplicate, _ = scene.open(story, customer=customer, actor=agent, channel="email", waybill=waybill)
    ticket_merge(actor=lead, source=duplicate, target=first)
    claim = make_story(
        scene.rng,
        category="damage",
        origin=story.route.origin,
        destination=story.route.destination,
        via=story.route.via,
        cargo=story.cargo,
    )
    second, _ = scene.open(
        claim, customer=customer, actor=agent, channel="phone", assignee=agent, waybill=waybill
    )
    ticket_link(actor=agent, ticket=second, other=first, kind=LinkKind.RELATED)


def _problem(scene: _Scene, vips: list[Customer]) -> None:
    """A rainstorm stops the Zhengzhou hub: the lead opens a problem ticket, links the delays of VIP
    consignments through Zhengzhou as its incidents and posts one update to all of them."""
    lead = scene.lead
    story = make_story(scene.rng, category="delay", via=OUTAGE_CITY, node="干线运输")
    hub = story.route.place("干线运输")
    problem = ticket_create(
        actor=lead,
        data=TicketData(
            subject=f"{hub}暴雨停运，途经{OUTAGE_CITY}的干线货物延误",
            description=f"{OUTAGE_CITY}暴雨，{hub}分拣线停运，途经{OUTAGE_CITY}的干线车辆滞留，"
            "预计延误 1–2 天。汇总受影响客户的工单，统一同步处理进度。",
            channel="proactive",
            type="exception",
            category=category("delay"),
            priority="urgent",
            team=scene.team,
            assignee=lead,
            custom_fields=story_fields(
                story, [s for s in field_specs("delay") if s[0] in ("exception_node", "expected_solution")]
            )
            | {"cargo_type": "普通货物"},
        ),
    )
    scene.made += 1
    problem = problem_mark(actor=lead, ticket=problem)
    incidents = []
    for customer in scene.rng.sample(vips, min(4, len(vips))):
        story = make_story(
            scene.rng,
            category="delay",
            origin=customer.city.removesuffix("市"),
            via=OUTAGE_CITY,
            node="干线运输",
        )
        owner = customer.account_agent or scene.agent
        if scene._team_of(owner) != scene.team:  # the lead links only incidents their team can see
            owner = scene.agent
        ticket, _ = scene.open(story, customer=customer, actor=owner, channel="phone", assignee=owner)
        scene.say(ticket, story, 1, agent=owner)
        incidents.append(ticket)
    incident_link(actor=lead, problem=problem, incidents=incidents)
    problem_post_update(
        actor=lead,
        problem=problem,
        body=f"{hub}已恢复分拣，滞留车辆今晚发出，受影响货物预计延误 1–2 天送达，延误运费按时效承诺退还。",
        update_id="demo-zhengzhou-1",
    )
