"""kefu as shipped against the shared yardsticks, in one run: the ceiling, kefu, the ceiling again (and the
peer, django-helpdesk, with ``--peer``), on one engine, with the shared load generator.

    .venv/bin/python bench/ticket_create.py [--requests 2000] [--peer]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_create .venv/bin/python bench/ticket_create.py

1. ``../shared/bench/ceiling/run.sh`` — a bare Django view inserting one row, gunicorn, 2 sync workers
   (on PostgreSQL with ``CONN_MAX_AGE=60``: persistent connections, as kefu reuses its connections);
2. kefu started by its production command, ``kefu serve --workers 2``, measured with ``loadgen.py``
   (8 keep-alive connections) on ``POST /api/v1/tickets`` with an agent's API token (a delay ticket
   with a customer, custom fields, a tag and a waybill), ``GET /healthz`` and ``GET /api/v1/tickets/{ref}``;
   each endpoint gets 50 warm-up requests first;
3. the ceiling again; 4. with ``--peer``: ``peer_django_helpdesk/run.sh`` with ``PEER_READS=0``.

The yardsticks' databases are their own: on PostgreSQL the database named in DATABASE_URL with
``_ceiling`` / ``_peer`` appended (dropped and re-created by their scripts), on SQLite their files in
/tmp. Prints every raw loadgen line and the ratios. ``--command`` replaces kefu's production command
(``{port}`` is filled in) to compare servers, as docs/decisions/0002-http-server.md did.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

REPO = Path(__file__).resolve().parent.parent
YARDSTICKS = REPO.parent / "shared" / "bench"

BODY = {
    "subject": "上海发往成都的冷冻海鲜延误{i}天未送达",
    "description": "客户反映物流轨迹停留在目的分拨，已超过承诺时效，要求尽快派送并说明原因。",
    "channel": "phone",
    "type": "complaint",
    "category": "delay",
    "priority": "high",
    "custom_fields": {
        "cargo_type": "冷链货物",
        "exception_node": "目的分拨",
        "expected_solution": "尽快派送",
    },
    "tags": ["加急"],
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(port: int, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"kefu exited with {process.returncode} (see /tmp/kefu-bench/server.log)")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        except OSError:
            time.sleep(0.3)
        else:
            time.sleep(3)  # as the yardsticks' scripts: let every worker finish starting
            return
    raise SystemExit("kefu did not start")


def _yardstick(script: str, yardsticks: Path, env: dict[str, str]) -> tuple[list[str], dict[str, Any]]:
    """Run a yardstick script; its output lines and the first loadgen line (the insert / create run)."""
    out = subprocess.run(  # noqa: S603 - the shared yardstick scripts, as they are
        ["/bin/bash", str(yardsticks / script)], env=env, capture_output=True, text=True, check=False
    )
    lines = [line for line in out.stdout.splitlines() if line.strip()]
    result = next((json.loads(line) for line in lines if line.startswith("{")), None)
    if out.returncode != 0 or result is None:
        raise SystemExit(f"{script} failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    return lines, result


def _load(
    yardsticks: Path, method: str, url: str, *, n: int, headers: tuple[str, ...] = (), body: str | None = None
) -> dict[str, Any]:
    argv = [sys.executable, str(yardsticks / "loadgen.py"), method, url, "--n", str(n), "--c", "8"]
    for header in headers:
        argv += ["--header", header]
    if body is not None:
        argv += ["--body", body]
    out = subprocess.run(argv, capture_output=True, text=True, check=True)  # noqa: S603
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _fixtures() -> tuple[str, str, int]:
    """An agent of a team with an API token, and a customer; returns (token, customer, team)."""
    from kefu.accounts.enums import Role
    from kefu.accounts.models import Team, TeamMembership, User
    from kefu.accounts.services import token_create, user_create
    from kefu.core.actors import SYSTEM
    from kefu.customers.models import Customer
    from kefu.customers.services import customer_create

    agent = User.objects.filter(username="bench-agent").first() or user_create(
        actor=SYSTEM, username="bench-agent", password=None, role=Role.AGENT
    )
    team, _ = Team.objects.get_or_create(code="bench", defaults={"name": "基准测试组"})
    TeamMembership.objects.get_or_create(team=team, user=agent)
    _, token = token_create(actor=SYSTEM, user=agent, name="bench-create")
    customer = Customer.objects.filter(name="基准测试物流有限公司").first() or customer_create(
        actor=SYSTEM, name="基准测试物流有限公司", assign_account_agent=False
    )
    return token, customer.public_id, team.pk


def _serve(argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    log = Path("/tmp/kefu-bench/server.log")  # noqa: S108 - the server's own messages, for a failed start
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        return subprocess.Popen(argv, cwd=REPO, env=env, stdout=out, stderr=out, start_new_session=True)  # noqa: S603


def _stop(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--requests", type=int, default=2000, help="requests per kefu endpoint (default 2000)"
    )
    parser.add_argument("--peer", action="store_true", help="also run the peer (django-helpdesk) once")
    parser.add_argument("--yardsticks", type=Path, default=YARDSTICKS, help=f"default {YARDSTICKS}")
    parser.add_argument(
        "--command", help="instead of `kefu serve --workers 2 --port {port}`, to compare servers"
    )
    args = parser.parse_args()

    from bench._setup import setup

    database = setup("create.sqlite3")
    token, customer, team = _fixtures()
    from django.db import connection

    # the yardsticks get a plain environment: none of kefu's settings, their own databases
    yard_env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "PEER_VENV") if k in os.environ}
    if connection.vendor == "postgresql":
        base = os.environ["DATABASE_URL"].split("?")[0]
        ceiling_env = {**yard_env, "DATABASE_URL": f"{base}_ceiling", "CONN_MAX_AGE": "60"}
        peer_env = {**yard_env, "DATABASE_URL": f"{base}_peer", "CONN_MAX_AGE": "60", "PEER_READS": "0"}
    else:
        ceiling_env, peer_env = yard_env, {**yard_env, "PEER_READS": "0"}
    connection.close()

    port = _free_port()
    command = args.command or f"{sys.executable} -m kefu.cli serve --workers 2 --port {{port}}"
    kefu_env = {**os.environ, "LOG_LEVEL": "WARNING", "PYTHONPATH": str(REPO)}
    auth = f"Authorization: Bearer {token}"
    stamp = int(time.time())  # every run's waybill numbers are its own: SF<stamp><i>, warm-up SW<stamp><i>
    body = json.dumps(
        {**BODY, "customer": customer, "team": team, "waybills": [f"SF{stamp}{{i}}"]}, ensure_ascii=False
    )
    url = f"http://127.0.0.1:{port}"

    raw: list[str] = [
        f"# {database}; {time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC; load {os.getloadavg()[0]:.1f}"
    ]
    lines, ceiling1 = _yardstick("ceiling/run.sh", args.yardsticks, ceiling_env)
    raw += [f"ceiling 1   {line}" for line in lines]

    process = _serve(shlex.split(command.format(port=port)), kefu_env)
    kefu: dict[str, dict[str, Any]] = {}
    try:
        _wait_for(port, process)
        _load(
            args.yardsticks,
            "POST",
            f"{url}/api/v1/tickets",
            n=50,
            headers=(auth,),
            body=body.replace("SF", "SW"),
        )
        kefu["create"] = _load(
            args.yardsticks, "POST", f"{url}/api/v1/tickets", n=args.requests, headers=(auth,), body=body
        )
        _load(args.yardsticks, "GET", f"{url}/healthz", n=50)
        kefu["healthz"] = _load(args.yardsticks, "GET", f"{url}/healthz", n=args.requests)
        from kefu.tickets.models import Ticket

        ref = Ticket.objects.order_by("-pk").values_list("public_id", flat=True).first()
        if connection.vendor == "postgresql":  # kefu's connections after the load: bounded by its pools
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) - 1 FROM pg_stat_activity WHERE datname = current_database()")
                raw.append(f"kefu's PostgreSQL connections after the load: {cursor.fetchone()[0]}")
        connection.close()
        _load(args.yardsticks, "GET", f"{url}/api/v1/tickets/{ref}", n=50, headers=(auth,))
        kefu["detail"] = _load(
            args.yardsticks, "GET", f"{url}/api/v1/tickets/{ref}", n=args.requests, headers=(auth,)
        )
    finally:
        _stop(process)
    raw += [f"kefu {name:<8}{json.dumps(result)}" for name, result in kefu.items()]
    raw.append(f"kefu command: {command.format(port=port)}")

    lines, ceiling2 = _yardstick("ceiling/run.sh", args.yardsticks, ceiling_env)
    raw += [f"ceiling 2   {line}" for line in lines]
    peer = None
    if args.peer:
        lines, peer = _yardstick("peer_django_helpdesk/run.sh", args.yardsticks, peer_env)
        raw += [f"peer        {line}" for line in lines]

    print("\n".join(raw))
    create = kefu["create"]["rps"]
    ceiling = (ceiling1["rps"] + ceiling2["rps"]) / 2
    print(
        f"\nkefu create / ceiling: {create:.0f} / {ceiling:.0f} req/s = {create / ceiling:.0%}"
        f" (against each ceiling run: {create / ceiling1['rps']:.0%}, {create / ceiling2['rps']:.0%})"
    )
    if peer is not None:
        print(
            f"kefu create / peer create: {create:.0f} / {peer['rps']:.0f} req/s = {create / peer['rps']:.0%}"
        )
    print(
        f"kefu GET /healthz p50 {kefu['healthz']['p50_ms']} ms; ticket detail p50 {kefu['detail']['p50_ms']} ms"
    )
    errors = sum(result["errors"] for result in kefu.values())
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
