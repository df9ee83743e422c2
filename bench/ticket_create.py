"""Ticket creation throughput through the API, ``POST /api/v1/tickets``, against a bare Django endpoint
that inserts one row — both served by uvicorn with 2 worker processes.

    .venv/bin/python bench/ticket_create.py [--requests 2000] [--seconds 30] [--concurrency 8]

1. ``kefu serve --workers 2`` on 127.0.0.1 (the product: middleware, token authentication, ninja
   validation, ``services.create.ticket_create`` — number, jieba tokens, waybill, tags, audit row — and the
   serialized ticket in the 201 response);
2. the same settings with this file as the URLconf: ``POST /bare`` parses the JSON body, inserts one
   row into a scratch table in a transaction and answers 201 — the ceiling for "one write per
   request" on this machine and database.

Load comes from a separate process (asyncio, HTTP/1.1 keep-alive, ``--concurrency`` connections), at
most ``--requests`` requests or ``--seconds`` seconds per server. Uses the benchmark database
(DATABASE_URL, or /tmp/kefu-bench/tickets.sqlite3 as bench/ticket_queue.py); created tickets stay.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

REPO = Path(__file__).resolve().parent.parent

# --- the bare endpoint (used only as this benchmark's URLconf) -------------------------------------


def bare(request: Any) -> Any:
    from django.db import connection, transaction
    from django.http import JsonResponse

    body = json.loads(request.body)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_bare_row (body) VALUES (%s)", [body.get("subject", "")])
    return JsonResponse({"ok": True}, status=201)


def _urlpatterns() -> list[Any]:
    from django.urls import path
    from django.views.decorators.csrf import csrf_exempt

    return [path("bare", csrf_exempt(bare))]


def __getattr__(name: str) -> Any:  # ROOT_URLCONF = "bench.ticket_create" resolves urlpatterns lazily
    if name == "urlpatterns":
        return _urlpatterns()
    raise AttributeError(name)


def bare_app() -> Any:
    """uvicorn factory: the product's settings and middleware, this module's URLconf."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.settings")
    import django
    from django.conf import settings

    django.setup()
    settings.ROOT_URLCONF = "bench.ticket_create"
    from kefu.asgi import application, settle_heap

    settle_heap()
    return application


# --- the load generator (a separate process) -------------------------------------------------------


async def _worker(spec: dict[str, Any], bodies: list[bytes], state: dict[str, Any]) -> None:
    host, path, headers = "127.0.0.1", spec["path"], spec["headers"]
    reader, writer = await asyncio.open_connection(host, spec["port"])
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    try:
        while state["left"] > 0 and time.perf_counter() < state["deadline"]:
            state["left"] -= 1
            body = bodies[state["sent"] % len(bodies)]
            state["sent"] += 1
            started = time.perf_counter()
            writer.write(
                f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n{head}\r\n".encode()
                + body
            )
            await writer.drain()
            status_line = await reader.readline()
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.decode("latin-1").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            payload = await reader.readexactly(length)
            status = int(status_line.split()[1])
            state["latency"].append((time.perf_counter() - started) * 1000)
            state["status"][status] = state["status"].get(status, 0) + 1
            if status != 201 and "error" not in state:
                state["error"] = payload[:300].decode("utf-8", "replace")
    finally:
        writer.close()


async def _load(args: argparse.Namespace) -> dict[str, Any]:
    spec = json.loads(Path(args.load).read_text())
    bodies = [json.dumps(b, ensure_ascii=False).encode() for b in spec["bodies"]]
    state: dict[str, Any] = {
        "left": spec["requests"],
        "sent": 0,
        "deadline": time.perf_counter() + spec["seconds"],
        "latency": [],
        "status": {},
    }
    started = time.perf_counter()
    await asyncio.gather(*(_worker(spec, bodies, state) for _ in range(spec["concurrency"])))
    elapsed = time.perf_counter() - started
    return {
        "elapsed": elapsed,
        "latency": state["latency"],
        "status": state["status"],
        "error": state.get("error"),
    }


# --- orchestration ---------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(port: int, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        except OSError:
            time.sleep(0.3)
        else:
            time.sleep(2)  # let both workers finish starting
            return
    raise SystemExit("server did not start")


def _serve(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:  # the server's own messages, for when it fails to start
        return subprocess.Popen(argv, cwd=REPO, env=env, stdout=out, stderr=out)  # noqa: S603


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _measure(spec: dict[str, Any], scratch: Path) -> dict[str, Any]:
    spec_file = scratch / "load.json"
    spec_file.write_text(json.dumps(spec, ensure_ascii=False))
    out = subprocess.run(  # noqa: S603 - this script, with a file it wrote
        [sys.executable, __file__, "--load", str(spec_file)], check=True, capture_output=True, cwd=REPO
    )
    return dict(json.loads(out.stdout))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=2000, help="at most this many per server")
    parser.add_argument("--seconds", type=float, default=30, help="at most this long per server")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--load", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        print(json.dumps(asyncio.run(_load(args))))
        return 0

    from bench._setup import DEFAULT_SQLITE_DIR, setup, table

    database = setup("tickets.sqlite3")
    from django.db import connection

    from kefu.accounts.enums import Role
    from kefu.accounts.models import TeamMembership, User
    from kefu.accounts.services import token_create, user_create
    from kefu.customers.models import Customer

    with connection.cursor() as cursor:
        pk = "INTEGER PRIMARY KEY" if connection.vendor == "sqlite" else "BIGSERIAL PRIMARY KEY"
        cursor.execute(f"CREATE TABLE IF NOT EXISTS bench_bare_row (id {pk}, body TEXT NOT NULL)")
    member = TeamMembership.objects.filter(user__role=Role.AGENT).order_by("team_id", "user_id").first()
    agent = (
        member.user
        if member
        else User.objects.filter(username="bench-agent").first()
        or user_create(actor=None, username="bench-agent", password=None, role=Role.AGENT)
    )
    _, token = token_create(actor=None, user=agent, name="bench-create")
    customers = list(Customer.objects.order_by("pk").values_list("public_id", flat=True)[:200])
    bodies = [
        {
            "subject": f"上海发往成都的冷冻海鲜延误{i % 7 + 2}天未送达",
            "description": "客户反映物流轨迹停留在目的分拨，已超过承诺时效，要求尽快派送并说明原因。",
            "channel": "phone",
            "type": "complaint",
            "category": "delay",
            "priority": "high",
            "customer": customers[i % len(customers)] if customers else None,
            "custom_fields": {
                "cargo_type": "冷链货物",
                "exception_node": "目的分拨",
                "expected_solution": "尽快派送",
            },
            "tags": ["加急"],
            "waybills": [f"SF{9_000_000_000_00 + i}"],
        }
        for i in range(500)
    ]
    env = {**os.environ, "LOG_LEVEL": "WARNING", "PYTHONPATH": str(REPO)}
    scratch = DEFAULT_SQLITE_DIR
    scratch.mkdir(parents=True, exist_ok=True)
    common = {"requests": args.requests, "seconds": args.seconds, "concurrency": args.concurrency}
    servers = {
        "bare Django endpoint (1 INSERT)": (
            [
                sys.executable, "-m", "uvicorn", "bench.ticket_create:bare_app", "--factory",
                "--workers", str(args.workers), "--log-level", "warning", "--no-access-log",
            ],
            "/bare",
            {},
        ),
        "POST /api/v1/tickets": (
            [sys.executable, "-m", "kefu.cli", "serve", "--workers", str(args.workers)],
            "/api/v1/tickets",
            {"Authorization": f"Bearer {token}"},
        ),
    }  # fmt: skip
    rows = []
    results: dict[str, float] = {}
    for name, (argv, path, headers) in servers.items():
        port = _free_port()
        process = _serve([*argv, "--host", "127.0.0.1", "--port", str(port)], env, scratch / "server.log")
        try:
            _wait_for(port, process)
            _measure({**common, "requests": 50, "port": port, "path": path, "headers": headers, "bodies": bodies}, scratch)  # fmt: skip
            result = _measure({**common, "port": port, "path": path, "headers": headers, "bodies": bodies}, scratch)  # fmt: skip
        finally:
            _stop(process)
        latency = result["latency"]
        ok = result["status"].get("201", 0)
        if result.get("error"):
            print(f"{name}: non-201 answers {result['status']}: {result['error']}", file=sys.stderr)
        rate = ok / result["elapsed"]
        results[name] = rate
        rows.append(
            [
                name,
                len(latency),
                ok,
                f"{result['elapsed']:.1f}",
                f"{rate:,.0f}",
                f"{statistics.median(latency):.1f}",
                f"{sorted(latency)[int(0.99 * (len(latency) - 1))]:.1f}",
            ]
        )
    print(f"{database}; uvicorn --workers {args.workers}; {args.concurrency} keep-alive connections")
    print(table(["endpoint", "requests", "201", "seconds", "req/s", "p50 ms", "p99 ms"], rows))
    ceiling, api = results.values()
    print(f"\nticket creation at {api / ceiling:.0%} of the one-row ceiling")
    return 0


if __name__ == "__main__":
    sys.exit(main())
