"""Ticket reads over HTTP keep-alive as shipped, at benchmark scale (1,000,000 tickets).

    .venv/bin/python bench/ticket_reads.py [--tickets 1000000] [--n 400] [--only CASES]
        [--yardsticks ../shared/bench]

Prepares the database as ``bench/ticket_queue.py`` does (seeds unless it holds ``--tickets``; the bench
agent gets account customers, watched tickets and work orders — the wider visibility's sets), starts
kefu with its production command ``kefu serve --workers 2`` on a free loopback port, and runs the
yardstick load generator (``loadgen.py``: HTTP/1.1 keep-alive, 8 connections) against each URL,
printing its raw line. API cases authenticate with an API token, console pages with a session cookie,
as the bench agent or as a manager (who sees every ticket):

    api detail          GET /api/v1/tickets/<number>      a team ticket, an account customer's, a
                                                           watched one (agent); any ticket (manager)
    api list            GET /api/v1/tickets?queue=…&limit=50
    queue page          GET /tickets/?queue=…             the console's queue, first page of 50
    queue counts        GET /tickets/counts/              the counts the queue page loads next (htmx)
    ticket page         GET /tickets/<number>/            the same tickets as the API detail

Targets (issue 14): API detail and 50-row list p99 < 50 ms, queue page and ticket page p99 < 100 ms.
Each URL gets ``--warm`` requests first (not counted), then ``--n``. Without DATABASE_URL a SQLite file
under /tmp/kefu-bench is used and kept for the next run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._setup import REPO, setup
from bench.ticket_create import YARDSTICKS, _free_port, _load, _serve, _stop, _wait_for
from bench.ticket_queue import prepare

TARGETS = {"api detail": 50, "api list": 50, "queue page": 100, "queue counts": 100, "ticket page": 100}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--n", type=int, default=400, help="timed requests per URL")
    parser.add_argument("--warm", type=int, default=40, help="requests per URL before timing")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", default="", help="comma-separated case kinds or names (substrings)")
    parser.add_argument("--yardsticks", type=Path, default=YARDSTICKS, help=f"default {YARDSTICKS}")
    args = parser.parse_args()
    if not (args.yardsticks / "loadgen.py").is_file():
        raise SystemExit(f"no loadgen.py in {args.yardsticks} (pass --yardsticks)")
    database = setup("tickets.sqlite3")

    from django.conf import settings
    from django.test import Client

    from kefu.accounts.services import token_create
    from kefu.core.actors import SYSTEM
    from kefu.tickets.enums import ACTIVE_CATEGORIES
    from kefu.tickets.models import Ticket

    scene = prepare(tickets=args.tickets, seed=args.seed)
    agent, manager = scene.agent, scene.manager
    team_id = scene.member.team_id

    def session(user: Any) -> str:
        client = Client()
        client.force_login(user)
        return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"

    auth = {
        user.pk: {
            "api": f"Authorization: Bearer {token_create(actor=SYSTEM, user=user, name='bench-reads')[1]}",
            "page": f"Cookie: {session(user)}",
        }
        for user in (agent, manager)
    }
    # Tickets the agent reaches by each branch of the access rule, newest first, and an old one.
    reached = Ticket.objects.filter(merged_into=None).exclude(team_id=team_id).exclude(assignee=agent)
    picks = {
        "team, active": Ticket.objects.filter(team_id=team_id, status_category__in=ACTIVE_CATEGORIES)
        .order_by("-updated_at")
        .first(),
        "account customer": reached.filter(customer__account_agent=agent).order_by("-pk").first(),
        "watched": reached.filter(watchers=agent).order_by("-pk").first(),
    }
    old = Ticket.objects.filter(pk__lte=scene.top // 3).order_by("-pk").first()
    tickets = {name: ticket.number for name, ticket in picks.items() if ticket is not None}
    cases: list[tuple[str, str, Any, str]] = []  # kind, name, user, path
    for name, number in tickets.items():
        cases.append(("api detail", f"agent, {name}", agent, f"/api/v1/tickets/{number}"))
    if old is not None:
        cases.append(("api detail", "manager, an old ticket", manager, f"/api/v1/tickets/{old.number}"))
    for queue in ("team", "mine", "all"):
        cases.append(("api list", f"agent, {queue}", agent, f"/api/v1/tickets?queue={queue}&limit=50"))
    cases.append(("api list", "manager, all", manager, "/api/v1/tickets?queue=all&limit=50"))
    for queue in ("team", "mine", "all"):
        cases.append(("queue page", f"agent, {queue}", agent, f"/tickets/?queue={queue}"))
    cases.append(("queue page", "manager, all", manager, "/tickets/?queue=all"))
    cases.append(("queue counts", "agent", agent, "/tickets/counts/?queue=team"))
    cases.append(("queue counts", "manager", manager, "/tickets/counts/?queue=all"))
    for name, number in tickets.items():
        cases.append(("ticket page", f"agent, {name}", agent, f"/tickets/{number}/"))
    if old is not None:
        cases.append(("ticket page", "manager, an old ticket", manager, f"/tickets/{old.number}/"))
    if args.only:
        wanted = args.only.split(",")
        cases = [case for case in cases if any(w in f"{case[0]}: {case[1]}" for w in wanted)]

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    port = _free_port()
    command = [sys.executable, "-m", "kefu.cli", "serve", "--workers", str(args.workers)]
    process = _serve([*command, "--host", "127.0.0.1", "--port", str(port)], env)
    print(f"{database}; {scene.have:,} tickets; `kefu serve --workers {args.workers}`; loadgen.py c=8")
    print(f"agent {agent.username} (team {team_id}), manager {manager.username}; tickets {tickets}")
    results: list[tuple[str, str, dict[str, Any]]] = []
    try:
        _wait_for(port, process)
        for kind, name, user, path in cases:
            url = f"http://127.0.0.1:{port}{path}"
            headers = [auth[user.pk]["api" if kind.startswith("api") else "page"]]
            if kind == "queue counts":  # as the queue page's htmx request
                headers.append("HX-Request: true")
            check = urllib.request.Request(url, headers=dict(h.split(": ", 1) for h in headers))
            with urllib.request.urlopen(check) as response:  # noqa: S310 - loopback
                if response.status != 200:
                    raise SystemExit(f"GET {path} → {response.status}")
            _load(args.yardsticks, "GET", url, n=args.warm, headers=tuple(headers))
            result = _load(args.yardsticks, "GET", url, n=args.n, headers=tuple(headers))
            print(f"{kind}: {name}  GET {path}\n    {json.dumps(result)}", flush=True)
            results.append((kind, name, result))
    finally:
        _stop(process)
    print("\n| case | rps | p50 ms | p99 ms | target p99 | errors |\n|---|---|---|---|---|---|")
    for kind, name, result in results:
        target = TARGETS[kind]
        met = "met" if result["p99_ms"] < target and not result["errors"] else "NOT met"
        print(
            f"| {kind}: {name} | {result['rps']} | {result['p50_ms']} | {result['p99_ms']} "
            f"| < {target} ({met}) | {result['errors']} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
