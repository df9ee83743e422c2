"""Benchmark-scale synthetic data: ``seed_bulk`` writes N customers and N tickets straight to the
tables with ``bulk_create`` (fast, valid, no audit rows) and then refreshes the planner's statistics."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from kefu.accounts.enums import Role
from kefu.accounts.models import Team
from kefu.accounts.services import team_add_member, user_create
from kefu.core.actors import SYSTEM
from kefu.core.ids import new_public_id
from kefu.core.sequences import next_values
from kefu.customers.enums import Tier
from kefu.customers.models import Contact, Customer
from kefu.demo.people import TEAM_DESCRIPTIONS_EN, TEAM_FOR_TYPE, TEAMS, _bulk_customers, _person
from kefu.demo.stories import TAG_NAMES, StoryPool, story_fields
from kefu.tickets.models import Category, CustomField, Message, Status, Tag, Ticket, TicketWaybill

TICKET_BATCH = 5000
TICKET_DAYS = 90
TEXT_POOL = 6000  # distinct generated ticket stories, tokenized once each (jieba: ~80 µs per text)

# waybill prefix, digits after it
CARRIERS = [("SF", 12), ("JD", 13), ("YT", 13), ("ZT", 12), ("", 12), ("KY", 11), ("DB", 10)]
# category code → (type, subjects, descriptions). Placeholders: {cargo} {src} {dst} {days} {amount} {node}

# Ticket state mix of a ticket on its first day: (status category, weight). Older tickets are mostly
# done (:func:`_still_active`), so about 2 % of a 90-day history is active, as on a real desk.
STATE_WEIGHTS = [("new", 8), ("open", 17), ("pending", 12), ("resolved", 13), ("closed", 50)]
ACTIVE_STATES = ("new", "open", "pending")
DONE_STATES, DONE_WEIGHTS = ("resolved", "closed"), (13, 50)


def _still_active(age: dt.timedelta) -> float:
    """The chance that a ticket drawn active is still active at ``age``: most are resolved within a
    few days; a few (claims waiting on insurers, disputed charges) stay open for weeks."""
    if age < dt.timedelta(days=1):
        return 1.0
    if age < dt.timedelta(days=3):
        return 0.4
    if age < dt.timedelta(days=14):
        return 0.12
    return 0.02


CHANNEL_MIX = [
    ("phone", 35),
    ("chat", 25),
    ("email", 12),
    ("web", 12),
    ("api", 8),
    ("bot", 5),
    ("proactive", 3),
]
PRIORITY_MIX = [("urgent", 4), ("high", 16), ("normal", 65), ("low", 15)]
# Where portal and API tickets of each seeded category land when no team is given (the same mapping as


def seed_bulk(*, customers: int = 0, tickets: int = 0, seed: int, progress: bool) -> None:
    """Write ``customers`` synthetic customers, then ``tickets`` synthetic tickets (:func:`seed_tickets`:
    1–4 messages each; customers are seeded first if there are none), then :func:`analyze`."""
    _bulk_customers(customers=customers, seed=seed, progress=progress)
    seed_tickets(tickets=tickets, seed=seed, progress=progress)
    analyze()


def analyze() -> None:
    """Refresh the planner's statistics on PostgreSQL. Autovacuum analyzes a table only after it has
    changed a while; until then a freshly bulk-loaded database plans with empty statistics (a
    million-ticket full-text query took 2 s instead of milliseconds). SQLite plans without them."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def _waybill(rng: random.Random) -> str:
    prefix, digits = rng.choice(CARRIERS)
    return f"{prefix}{rng.randrange(10 ** (digits - 1), 10**digits)}"


def _merge_tokens(*parts: str) -> str:
    return " ".join(dict.fromkeys(" ".join(p for p in parts if p).split()))


def _day_counts(rng: random.Random, total: int, days: list[dt.date]) -> list[int]:
    """Tickets per day: weekdays busier than weekends, a little noise, summing to ``total``."""
    weights = [(1.0 if d.weekday() < 5 else 0.6) * rng.uniform(0.85, 1.15) for d in days]
    scale = total / sum(weights)
    counts = [int(w * scale) for w in weights]
    for index in range(total - sum(counts)):
        counts[index % len(counts)] += 1
    return counts


def _ticket_staff(rng: random.Random) -> dict[str, Any]:
    """Teams and their agents to assign bulk tickets to; a few are created when there are none."""
    from kefu.accounts.models import TeamMembership

    teams = {t.code: t for t in Team.objects.order_by("pk")}
    if not teams:
        for code, name, name_en, description, _ in TEAMS:
            teams[code] = Team.objects.create(
                name=name,
                name_en=name_en,
                code=code,
                description=description,
                description_en=TEAM_DESCRIPTIONS_EN.get(code, ""),
            )
    members: dict[int, list[int]] = {t.pk: [] for t in teams.values()}
    rows = TeamMembership.objects.filter(
        user__is_active=True, user__role__in=(Role.AGENT, Role.LEAD)
    ).values_list("team_id", "user_id")
    for team_id, user_id in rows.order_by("team_id", "user_id"):
        members.setdefault(team_id, []).append(user_id)
    for team in teams.values():
        if not members[team.pk]:
            for index in range(3):
                name, username = _person(rng)
                user = user_create(
                    actor=SYSTEM,
                    username=f"seed.{team.code}.{index + 1}",
                    password=None,
                    role=Role.AGENT,
                    full_name=name,
                    email=f"{username}.{team.code}{index + 1}@kefu.example.com",
                )
                team_add_member(actor=SYSTEM, team=team, user=user)
                members[team.pk].append(user.pk)
    return {"teams": teams, "members": members}


def seed_tickets(
    *, tickets: int, seed: int, progress: bool, pool_size: int = TEXT_POOL, days: int = TICKET_DAYS
) -> int:
    """Write ``tickets`` synthetic tickets with ``bulk_create``; return how many were written.

    Each ticket has 1–4 messages (the customer's first message, replies, internal notes, follow-ups),
    a waybill, 0–2 tags, a category with valid custom fields, a status of every category with the
    matching timestamps, a customer and contact from the existing customers (1,000 are seeded first if
    there are none), a team and, unless new, an assignee among the team's agents. Creation times are
    spread over the last ``days`` days; numbers are ``T``+yymmdd+counter taken from the same per-day
    counters as ``services.create.new_ticket_number``, so later tickets never collide. ``search_text`` holds
    the same jieba tokens the services compute, from a pool of ``pool_size`` generated texts tokenized
    once. No audit rows are written.
    """
    from tqdm import tqdm

    from kefu.tickets import text

    if tickets <= 0:
        return 0
    rng = random.Random(seed)
    if not Customer.objects.exists():
        _bulk_customers(customers=max(1000, min(tickets // 100, 100_000)), seed=seed, progress=progress)
    staff = _ticket_staff(rng)
    team_ids = {code: team.pk for code, team in staff["teams"].items()}
    all_team_ids = sorted(team_ids.values())
    members: dict[int, list[int]] = staff["members"]
    customers: list[tuple[int, int | None]] = []
    seen: set[int] = set()
    for owner, primary in (
        Contact.objects.filter(is_primary=True).order_by("customer_id").values_list("customer_id", "pk")
    ):
        if owner not in seen:
            seen.add(owner)
            customers.append((owner, primary))
    if not customers:
        customers = [(pk, None) for pk in Customer.objects.order_by("pk").values_list("pk", flat=True)]
    vip = set(Customer.objects.filter(tier=Tier.VIP).values_list("pk", flat=True))
    statuses: dict[str, list[Status]] = {}
    for status in Status.objects.order_by("position"):
        statuses.setdefault(status.category, []).append(status)
    categories = dict(Category.objects.values_list("code", "pk"))
    fields: dict[str, list[tuple[str, str, list[Any]]]] = {}
    for spec in CustomField.objects.select_related("category").order_by("position"):
        fields.setdefault(spec.category.code, []).append((spec.key, spec.kind, list(spec.choices)))
    Tag.objects.bulk_create([Tag(name=n) for n in TAG_NAMES], ignore_conflicts=True)
    tag_ids = dict(Tag.objects.filter(name__in=TAG_NAMES).values_list("name", "pk"))
    pool = StoryPool(rng, min(pool_size, tickets))
    # per story once, not per ticket: its tags' ids and its values for this database's fields
    story_tags = [sorted(tag_ids[name] for name in story.tags) for story in pool.stories]
    story_custom = [story_fields(story, fields.get(story.category, [])) for story in pool.stories]
    if connection.vendor == "sqlite":
        # Random-key indexes (public ids, waybill numbers) outgrow the 64 MB page cache at a few hundred
        # thousand tickets; with a larger cache for this connection each batch rereads far fewer pages.
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size=-1000000")
    now = timezone.now()
    today = timezone.localdate(now)
    dates = [today - dt.timedelta(days=offset) for offset in range(days - 1, -1, -1)]
    counts = _day_counts(rng, tickets, dates)
    tz = timezone.get_current_timezone()
    states, state_weights = zip(*STATE_WEIGHTS, strict=True)
    channels, channel_weights = zip(*CHANNEL_MIX, strict=True)
    priorities, priority_weights = zip(*PRIORITY_MIX, strict=True)
    link = Ticket.tags.through
    made = 0

    def plan() -> Iterator[tuple[str, dt.datetime]]:
        """(number, created_at) in time order, numbers from the per-day counters."""
        for day, count in zip(dates, counts, strict=True):
            if not count:
                continue
            start = dt.datetime.combine(day, dt.time(), tzinfo=tz)
            span = min((now - start).total_seconds(), 86400.0)
            offsets = sorted(rng.random() * span for _ in range(count))
            numbers = next_values(f"ticket:{day:%y%m%d}", count)
            for number, offset in zip(numbers, offsets, strict=True):
                yield f"T{day:%y%m%d}{number:04d}", start + dt.timedelta(seconds=offset)

    planned = plan()
    with tqdm(total=tickets, desc="工单", unit="row", disable=not progress) as bar:
        while made < tickets:
            size = min(TICKET_BATCH, tickets - made)
            batch: list[Ticket] = []
            extras: list[tuple[list[Message], list[str], list[int]]] = []
            for _ in range(size):
                number, created = next(planned)
                index = (made + len(batch)) % len(pool.stories)
                story = pool.stories[index]
                state = rng.choices(states, state_weights)[0]
                if state in ACTIVE_STATES and rng.random() > _still_active(now - created):
                    state = rng.choices(DONE_STATES, DONE_WEIGHTS)[0]
                status = rng.choice(statuses[state])
                team_code = TEAM_FOR_TYPE.get(story.type, "after-sales")
                team_id: int | None = team_ids.get(team_code) or rng.choice(all_team_ids)
                customer_id, contact_id = rng.choice(customers)
                if customer_id in vip and "key-accounts" in team_ids and rng.random() < 0.7:
                    team_id = team_ids["key-accounts"]
                assignee = None
                if state != "new" or rng.random() < 0.1:
                    agents = members.get(team_id or 0) or []
                    assignee = rng.choice(agents) if agents else None
                if state == "new" and rng.random() < 0.3:
                    team_id = None  # not triaged yet
                life = dt.timedelta(minutes=rng.randint(5, 60 * 24 * (6 if state == "closed" else 3)))
                updated = min(created + life, now)
                waybills = [_waybill(rng) for _ in range(1 if rng.random() < 0.9 else 2)]
                done = state in ("resolved", "closed")
                # the conversation: the customer's first message, then the story's turns in order
                count = rng.choices((1, 2, 3, 4), (25, 35, 25, 15))[0]
                times = sorted(created + (updated - created) * rng.random() for _ in range(count - 1))
                messages: list[Message] = [
                    Message(
                        author_kind="customer",
                        contact_id=contact_id,
                        visibility="public",
                        body_html=story.description,
                        body_text=story.description,
                        created_at=created,
                    )
                ]
                token_parts = [number.lower(), story.tokens, *(w.lower() for w in waybills)]
                note_parts: list[str] = []  # internal notes' tokens: portal searches leave them out
                first_response = None
                for at, turn in zip(times, story.conversation(count - 1, done=done), strict=True):
                    if turn.kind == "agent":
                        first_response = first_response or at
                    messages.append(
                        Message(
                            author_kind="customer" if turn.kind == "customer" else "agent",
                            author_id=assignee if turn.kind != "customer" else None,
                            contact_id=contact_id if turn.kind == "customer" else None,
                            visibility="internal" if turn.kind == "internal" else "public",
                            body_html=turn.body,
                            body_text=turn.body,
                            created_at=at,
                        )
                    )
                    (note_parts if turn.kind == "internal" else token_parts).append(turn.tokens)
                confirmed = rng.random() < 0.85 if state == "closed" else None
                batch.append(
                    Ticket(
                        number=number,
                        public_id=new_public_id(),
                        subject=story.subject,
                        description=story.description,
                        channel=rng.choices(channels, channel_weights)[0],
                        type=story.type,
                        category_id=categories.get(story.category),
                        priority=rng.choices(priorities, priority_weights)[0],
                        customer_id=customer_id,
                        contact_id=contact_id,
                        team_id=team_id,
                        assignee_id=assignee,
                        status=status,
                        status_category=state,
                        custom_fields=story_custom[index],
                        solution_summary=story.summary(waybills[0]) if done else "",
                        satisfaction_confirmed=confirmed,
                        close_reason=""
                        if confirmed is None
                        else "confirmed"
                        if confirmed
                        else rng.choice(("unreachable", "no_response")),
                        close_note="" if confirmed in (None, True) else "电话联系 3 次未接通，短信已告知",
                        search_text=_merge_tokens(*token_parts, *note_parts),
                        internal_search_text=text.without(_merge_tokens(*note_parts), *token_parts),
                        created_at=created,
                        updated_at=updated,
                        first_response_at=first_response,
                        resolved_at=updated if done else None,
                        closed_at=updated if state == "closed" else None,
                    )
                )
                tags = rng.sample(story_tags[index], rng.choices((0, 1, 2), (50, 35, 15))[0])
                extras.append((messages, waybills, tags))
            with transaction.atomic():
                Ticket.objects.bulk_create(batch, batch_size=1000)
                message_rows: list[Message] = []
                waybill_rows: list[TicketWaybill] = []
                tag_rows: list[Any] = []
                for ticket, (messages, waybills, tags) in zip(batch, extras, strict=True):
                    for message in messages:
                        message.ticket_id = ticket.pk
                    message_rows += messages
                    waybill_rows += [TicketWaybill(ticket_id=ticket.pk, waybill_no=w) for w in waybills]
                    tag_rows += [link(ticket_id=ticket.pk, tag_id=t) for t in tags]
                Message.objects.bulk_create(message_rows, batch_size=2000)
                TicketWaybill.objects.bulk_create(waybill_rows, batch_size=2000)
                link.objects.bulk_create(tag_rows, batch_size=2000)
            made += size
            bar.update(size)
    return made
