"""Latency of the agent's ticket queues and the ticket page at benchmark scale (1,000,000 tickets).

    .venv/bin/python bench/ticket_queue.py [--tickets 1000000] [--requests 200] [--explain] [--pages]

Seeds ``--tickets`` synthetic tickets (``kefu.demo.seed_bulk``; 100,000 customers first) unless the
database already holds that many, runs ``ANALYZE``, then times for each case the queue query of
``selectors.ticket_list`` and the fetch of its first page (50 rows, with customer, assignee, team,
status and category joined) — as an agent, a lead or a manager:

    mine, team, unassigned, vip     the console's queues (active tickets)
    status / priority / type        ``all`` or ``team`` with one filter
    q-common, q-city, q-rare        full text: common words (延误 / 破损 理赔), a city, a rare pair
    q-waybill, q-number             a waybill number / a ticket number as q
    team+q                          the agent's team queue with a full-text q
    agent-all, agent-all+q          everything the agent may see (the access scope drives the query)
    office-all                      … for an agent of no team who owns 50 work orders (协作单)
    work_orders                     the agent's "my work orders" queue (when the code has it)

Before timing, the agent is given what the wider access rule reaches (once per database): every
customer gets an account agent round-robin among the seeded agents (as ``seed_bulk`` does when agents
exist before the customers; the bench seeds the customers first), and the agent watches 200 tickets and
owns 100 work orders (50 open) on tickets of any team.

With ``--pages`` also whole requests through ``django.test.Client``: the console queue page
(``/tickets/?queue=…``), its htmx rows fragment, the queue counts it loads next (``/tickets/counts/``,
as the agent and as a manager), the agent's ``all`` queue page and the ticket page (``/tickets/<number>/``, as
the manager, and as the agent on a ticket of their team).
Without DATABASE_URL a SQLite file under /tmp/kefu-bench is used and kept for the next run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._setup import setup, table

PAGE = 50
COMMON = ["延误", "破损 理赔", "丢件", "改派", "附加费", "签收", "冷链", "派送 超时", "退回", "快递柜"]
CITIES = ["乌鲁木齐", "拉萨", "昆明", "沈阳", "郑州", "西安", "成都", "武汉"]
RARE = ["乌鲁木齐 快递柜 道歉", "拉萨 冷冻海鲜 理赔", "发票 抬头 沈阳", "危险品 承运 昆明"]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


@dataclass
class Scene:
    """The benchmark database's people: the bench agent (first agent of the first team, with the wider
    visibility's sets), their team membership, a manager and a team-less work-order owner."""

    have: int  # tickets in the database
    member: Any  # the agent's TeamMembership
    agent: Any
    manager: Any
    office: Any
    top: int  # the highest ticket id
    rng: random.Random


def prepare(*, tickets: int, seed: int) -> Scene:
    """Seed ``tickets`` synthetic tickets (``kefu.demo.seed_bulk``; 100,000 customers first) unless the
    database already holds that many; once per database give the agent what the wider access rule
    reaches (see the module docstring); then ``ANALYZE``. Django must be set up (``_setup.setup``)."""
    from django.db import connection
    from django.db.models import F as Column
    from django.utils import timezone

    from kefu.accounts.enums import Role
    from kefu.accounts.models import TeamMembership, User
    from kefu.accounts.services import user_create
    from kefu.core.actors import SYSTEM
    from kefu.customers.models import Customer
    from kefu.demo import seed_bulk
    from kefu.tickets.models import Subtask, Ticket

    have = Ticket.objects.count()
    if have < tickets:
        print(f"seeding {tickets - have} tickets …", file=sys.stderr)
        customers = 0 if Customer.objects.exists() else 100_000
        seed_bulk(
            customers=customers,
            tickets=tickets - have,
            seed=seed + have,
            progress=sys.stderr.isatty(),
        )
        have = Ticket.objects.count()
    # The agent with the most active tickets, a lead of that team, a manager (sees everything).
    member = (
        TeamMembership.objects.filter(user__role=Role.AGENT, user__is_active=True)
        .order_by("team_id", "user_id")
        .first()
    )
    if member is None:
        raise SystemExit("no agents: seed first")
    agent = member.user
    manager = User.objects.filter(username="bench-manager").first() or user_create(
        actor=SYSTEM, username="bench-manager", password=None, role=Role.MANAGER, full_name="基准测试经理"
    )
    rng = random.Random(seed)
    top = Ticket.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    office = User.objects.filter(username="bench-office").first()
    if office is None:  # what the wider access rule reaches, written once per database
        print("adding account agents, watchers and work orders …", file=sys.stderr)
        office = user_create(
            actor=SYSTEM, username="bench-office", password=None, role=Role.AGENT, full_name="仓储协作"
        )
        agents = list(
            TeamMembership.objects.filter(user__role=Role.AGENT, user__is_active=True)
            .order_by("user_id")
            .values_list("user_id", flat=True)
            .distinct()
        )
        for index, user_id in enumerate(agents):
            Customer.objects.alias(slot=Column("pk") % len(agents)).filter(slot=index).update(
                account_agent_id=user_id
            )
        Ticket.watchers.through.objects.bulk_create(
            [
                Ticket.watchers.through(ticket_id=pk, user_id=agent.pk)
                for pk in set(rng.sample(range(1, top + 1), 200))
            ]
        )
        due = timezone.now() + dt.timedelta(days=2)
        Subtask.objects.bulk_create(
            [
                Subtask(
                    ticket_id=pk,
                    department="warehouse",
                    title="核查库存",
                    deadline=due,
                    problem_description="客户称少件",
                    support_needed="请盘点",
                    assignee_id=owner.pk,
                    status="open" if i % 2 == 0 or owner == office else "done",
                )
                for owner, count in ((agent, 100), (office, 50))
                for i, pk in enumerate(rng.sample(range(1, top + 1), count))
            ]
        )
    with connection.cursor() as cursor:  # fresh statistics, as autovacuum / PRAGMA optimize keep them
        cursor.execute("ANALYZE")
    return Scene(have, member, agent, manager, office, top, rng)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200, help="timed calls per case")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--explain", action="store_true", help="print each case's query plan")
    parser.add_argument("--pages", action="store_true", help="also time the console pages")
    parser.add_argument("--only", default="", help="comma-separated case names")
    args = parser.parse_args()
    database = setup("tickets.sqlite3")

    from django.db import connection
    from django.test import Client

    from kefu.accounts.models import User
    from kefu.heap import settle_heap
    from kefu.tickets import forms, selectors
    from kefu.tickets.models import Ticket, TicketWaybill

    scene = prepare(tickets=args.tickets, seed=args.seed)
    have, member, agent, manager, office = scene.have, scene.member, scene.agent, scene.manager, scene.office
    rng, top = scene.rng, scene.top
    sample_ids = [rng.randint(1, top) for _ in range(args.requests)]
    numbers = list(Ticket.objects.filter(pk__in=sample_ids).values_list("number", flat=True))
    team_numbers = list(
        Ticket.objects.filter(pk__in=sample_ids, team_id=member.team_id).values_list("number", flat=True)
    )
    waybills = list(
        TicketWaybill.objects.filter(ticket_id__in=sample_ids).values_list("waybill_no", flat=True)
    )
    F = selectors.TicketFilters  # noqa: N806
    none: Callable[[int], Any] = lambda i: None  # noqa: E731
    cases: dict[str, tuple[Any, str, Callable[[int], Any]] | tuple[Any, str, Callable[[int], Any], str]] = {
        "mine": (agent, "mine", lambda i: None),
        "team": (agent, "team", lambda i: None),
        "unassigned": (manager, "unassigned", lambda i: None),
        "vip": (manager, "vip", lambda i: None),
        "status": (manager, "all", lambda i: F(status_category=[["new", "open", "pending"][i % 3]])),
        "priority": (manager, "all", lambda i: F(priority=["urgent"], status_category=["open"])),
        "type": (agent, "team", lambda i: F(type=[["complaint", "claim", "exception"][i % 3]])),
        "q-common": (manager, "all", lambda i: F(q=COMMON[i % len(COMMON)])),
        "q-city": (manager, "all", lambda i: F(q=CITIES[i % len(CITIES)])),
        "q-rare": (manager, "all", lambda i: F(q=RARE[i % len(RARE)])),
        "q-waybill": (manager, "all", lambda i: F(q=waybills[i % len(waybills)])),
        "q-number": (manager, "all", lambda i: F(q=numbers[i % len(numbers)])),
        "team+q": (agent, "team", lambda i: F(q=COMMON[i % len(COMMON)])),
        # The console's column sorts (forms.SORTS): by creation (the id), oldest or newest first, and by
        # last update oldest first.
        "team/oldest": (agent, "team", none, "created"),
        "team/newest-created": (agent, "team", none, "-created"),
        "mine/oldest": (agent, "mine", none, "created"),
        "unassigned/oldest": (manager, "unassigned", none, "created"),
        "all/oldest": (manager, "all", none, "created"),
        "all/newest-created": (manager, "all", none, "-created"),
        "all/updated-asc": (manager, "all", none, "updated"),
        "open/oldest": (manager, "all", lambda i: F(status_category=["open"]), "created"),
        "team+q/oldest": (agent, "team", lambda i: F(q=COMMON[i % len(COMMON)]), "created"),
        "agent-all": (agent, "all", none),
        "agent-all+q": (agent, "all", lambda i: F(q=COMMON[i % len(COMMON)])),
        "office-all": (office, "all", none),
    }
    if "work_orders" in selectors.QUEUES:
        cases["work_orders"] = (agent, "work_orders", none)
    if args.only:
        cases = {k: v for k, v in cases.items() if k in args.only.split(",")}

    def query(case: str, i: int) -> Any:
        user, queue, filters, *sort = cases[case]
        queryset = selectors.ticket_list(user, queue=queue, filters=filters(i))
        return forms.ordered(queryset, sort[0] if sort else forms.DEFAULT_SORT)

    def run(case: str, i: int) -> int:
        user, queue, filters, *sort = cases[case]
        # A fresh user object per call, as per request: its access sets are read each time.
        fresh = User.objects.get(pk=user.pk)
        queryset = selectors.ticket_list(fresh, queue=queue, filters=filters(i))
        return len(forms.page_of(queryset, "", sort[0] if sort else forms.DEFAULT_SORT)[0])

    if args.explain:
        for case in cases:
            queryset = query(case, 0)[:PAGE]
            print(f"\n-- {case}")
            print(queryset.explain(analyze=True) if connection.vendor == "postgresql" else queryset.explain())

    settle_heap()  # as the server does (kefu/heap.py)
    timer = time.perf_counter
    rows = []
    for case in cases:
        for i in range(5):  # warm-up
            run(case, i)
        times: list[float] = []
        found: list[int] = []
        for i in range(args.requests):
            started = timer()
            found.append(run(case, i))
            times.append((timer() - started) * 1000)
        rows.append(
            [
                case,
                len(times),
                f"{statistics.mean(found):.1f}",
                f"{percentile(times, 0.50):.1f}",
                f"{percentile(times, 0.95):.1f}",
                f"{percentile(times, 0.99):.1f}",
                f"{max(times):.1f}",
            ]
        )
    print(f"{database}; {have:,} tickets")
    print("\nQueue query + first page of 50 (selectors.ticket_list, forms.page_of):\n")
    print(table(["case", "calls", "rows", "p50 ms", "p95 ms", "p99 ms", "max ms"], rows))

    if args.pages:
        client = Client()
        client.force_login(agent)
        pages: dict[str, Callable[[int], str]] = {
            "queue page: mine": lambda i: "/tickets/?queue=mine",
            "queue page: team": lambda i: "/tickets/?queue=team",
            "queue page: team, q": lambda i: f"/tickets/?queue=team&q={COMMON[i % len(COMMON)]}",
            "queue page: team, oldest first": lambda i: "/tickets/?queue=team&sort=created",
            "queue rows (htmx): team": lambda i: "/tickets/?queue=team",
            "queue counts (htmx)": lambda i: "/tickets/counts/?queue=team",
            "queue counts (htmx), manager": lambda i: "/tickets/counts/?queue=all",
            "queue page: all": lambda i: "/tickets/?queue=all",
            "ticket page": lambda i: f"/tickets/{numbers[i % len(numbers)]}/",
            "ticket page, agent": lambda i: f"/tickets/{team_numbers[i % len(team_numbers)]}/",
        }
        manager_client = Client()
        manager_client.force_login(manager)
        rows = []
        for name, url in pages.items():
            c = manager_client if name == "ticket page" or "manager" in name else client
            headers = {"HX-Request": "true", "HX-Target": "ticket-rows"} if "htmx" in name else {}
            for i in range(5):
                c.get(url(i), headers=headers)
            times = []
            for i in range(args.requests):
                started = timer()
                response = c.get(url(i), headers=headers)
                times.append((timer() - started) * 1000)
                if response.status_code != 200:
                    raise SystemExit(f"GET {url(i)} → {response.status_code}")
            rows.append(
                [
                    name,
                    len(times),
                    f"{percentile(times, 0.50):.1f}",
                    f"{percentile(times, 0.95):.1f}",
                    f"{percentile(times, 0.99):.1f}",
                    f"{max(times):.1f}",
                ]
            )
        print("\nWhole requests through django.test.Client (session login):\n")
        print(table(["page", "requests", "p50 ms", "p95 ms", "p99 ms", "max ms"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
