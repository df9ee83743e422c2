"""The ``kefu`` command: everything an operator does.

kefu demo                       migrate, seed the demo once, run web + worker, print URL and logins
kefu serve [--host --port --workers --threads --asgi]
kefu worker                     run background tasks (and keep the hourly maintenance task scheduled)
kefu prune                      run the hourly maintenance now (expired idempotency keys, old drafts)
kefu migrate
kefu createadmin USERNAME
kefu token create --user NAME [--name LABEL]
kefu import customers FILE [--mode all_or_nothing|valid_rows] [--user NAME]
kefu export customers FILE [--user NAME]
kefu seed [--customers N] [--tickets N] [--seed S]
"""

from __future__ import annotations

import argparse
import getpass
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kefu.accounts.models import User


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.settings")
    import django

    django.setup()


def _fail(message: str, code: int = 1) -> int:
    print(f"kefu: {message}", file=sys.stderr)
    return code


class CommandFailed(Exception):
    """Stop a command with a message for the operator (exit status 1)."""


def _migrate(verbosity: int = 1) -> None:
    from django.conf import settings
    from django.core.management import call_command

    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        Path(settings.DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    call_command("migrate", interactive=False, verbosity=verbosity)


def _user(username: str | None) -> User | None:
    return None if username is None else _named_user(username)


def _named_user(username: str) -> User:
    from kefu.accounts.models import User

    user = User.objects.filter(username=username).first()
    if user is None:
        raise CommandFailed(f"no user named {username!r}")
    return user


def cmd_migrate(args: argparse.Namespace) -> int:
    _migrate()
    return 0


MAX_THREADS = 64


def _threads(value: str, name: str) -> int:
    """A thread count from the command line or the environment, or a clear refusal naming its source."""
    try:
        threads = int(value)
    except ValueError:
        threads = 0
    if not 1 <= threads <= MAX_THREADS:
        raise CommandFailed(f"{name} must be a whole number from 1 to {MAX_THREADS} (got {value!r})")
    return threads


def _check_connections(workers: int, threads: int) -> None:
    """On PostgreSQL every thread of every process may hold a pooled connection at once: refuse a setup
    whose pool cannot serve every thread, or whose processes together could exceed max_connections."""
    from django.conf import settings
    from django.db import connection

    pool = settings.DATABASES["default"].get("OPTIONS", {}).get("pool")
    if connection.vendor != "postgresql" or not pool:
        return
    if threads > pool["max_size"]:
        raise CommandFailed(
            f"--threads {threads} is more than KEFU_DB_POOL_SIZE={pool['max_size']}: a request would wait for "
            "a database connection; raise KEFU_DB_POOL_SIZE or lower --threads"
        )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int"
        )
        available = cursor.fetchone()[0]
    connection.close()
    connection.close_pool()  # type: ignore[attr-defined]  # the workers are forked from this process: no pool to inherit
    needed = workers * (threads + 1)  # + 1: /healthz checks on a connection of its own
    if needed > available:
        raise CommandFailed(
            f"--workers {workers} × (--threads {threads} + 1 for /healthz) = {needed} database connections, "
            f"more than the {available} PostgreSQL accepts (max_connections); lower --workers or --threads"
        )


def _granian(target: str, *, host: str, port: int, workers: int, threads: int, asgi: bool, log: bool) -> Any:
    from granian.constants import Interfaces
    from granian.log import LogLevels
    from granian.server import Server

    return Server(
        target,
        address=host,
        port=port,
        # Django answers no ASGI lifespan events ("asginl": ASGI without them); WSGI runs each request on one
        # of `threads` blocking threads per process, ASGI on its event loop (granian allows one there).
        interface=Interfaces.ASGINL if asgi else Interfaces.WSGI,
        workers=workers,
        blocking_threads=1 if asgi else threads,
        websockets=asgi,
        log_level=LogLevels.info if log else LogLevels.warning,
        log_access=log,
        respawn_failed_workers=True,
    )


def cmd_serve(args: argparse.Namespace) -> int:
    """The production web server: granian, WSGI (kefu.wsgi) by default, --asgi for the ASGI application
    (kefu.asgi, WebSockets) as a process of its own beside it (docs/decisions/0002-http-server.md). Both
    entry modules settle the heap (kefu.heap) in every worker once the application is loaded."""
    if args.workers < 1:
        raise CommandFailed(f"--workers must be at least 1 (got {args.workers})")
    threads = (
        _threads(args.threads, "--threads")
        if args.threads is not None
        else _threads(os.environ.get("KEFU_WEB_THREADS", "4"), "KEFU_WEB_THREADS")
    )
    if args.asgi:
        threads = 1
    _check_connections(args.workers, threads)
    target = "kefu.asgi:application" if args.asgi else "kefu.wsgi:application"
    _granian(
        target,
        host=args.host,
        port=args.port,
        workers=args.workers,
        threads=threads,
        asgi=args.asgi,
        log=args.access_log,
    ).serve()
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from kefu.core.tasks import schedule_maintenance
    from kefu.core.worker import run_worker

    schedule_maintenance()  # restarts the self-rescheduling chain if it was lost
    run_worker(interval=args.interval)
    return 0


def cmd_prune(args: argparse.Namespace) -> int:
    from kefu.core.tasks import JOB_LABELS, maintain

    for name, count in maintain().items():
        print(f"{count} {JOB_LABELS[name]}")
    return 0


def cmd_createadmin(args: argparse.Namespace) -> int:
    from kefu.accounts.enums import Role
    from kefu.accounts.services import user_create
    from kefu.core import actors
    from kefu.core.errors import ValidationFailed

    password = os.environ.get("KEFU_ADMIN_PASSWORD") or getpass.getpass("Password: ")
    if not password.strip():
        return _fail("the password must not be empty (set KEFU_ADMIN_PASSWORD or type one)")
    try:
        user_create(
            actor=actors.cli("createadmin"),
            username=args.username,
            password=password,
            role=Role.ADMIN,
            email=args.email,
        )
    except ValidationFailed as exc:
        return _fail("; ".join(m for msgs in exc.fields.values() for m in msgs) or exc.message)
    print(f"created administrator {args.username}")
    return 0


def cmd_token_create(args: argparse.Namespace) -> int:
    from kefu.accounts.services import token_create
    from kefu.core import actors
    from kefu.core.errors import ValidationFailed

    user = _named_user(args.user)
    try:
        token, plain = token_create(actor=actors.cli("token create"), user=user, name=args.name)
    except ValidationFailed as exc:
        return _fail(
            exc.message if not exc.fields else "; ".join(m for ms in exc.fields.values() for m in ms)
        )
    print(f"token {token.name!r} for {user.username} (shown once, store it now):")
    print(plain)
    return 0


def _progress(total: int | None, desc: str, *, enabled: bool = True) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="row", file=sys.stderr, disable=not enabled, dynamic_ncols=True)


def cmd_import_customers(args: argparse.Namespace) -> int:
    from kefu.core import actors
    from kefu.customers.importing import ImportFileError, import_customers

    path = Path(args.file)
    if not path.is_file():
        return _fail(f"{path}: no such file")
    actor = _user(args.user)
    with _progress(None, "导入", enabled=not args.no_progress) as bar:

        def phase(name: str, total: int) -> None:
            bar.reset(total=total)
            bar.set_description(name)

        try:
            result = import_customers(
                path,
                filename=path.name,
                mode=args.mode,
                actor=actor or actors.cli("import customers"),
                progress=bar.update,
                phase=phase,
            )
        except ImportFileError as exc:
            bar.close()
            return _fail(f"{path.name}: {exc.message}")
    for error in result.errors:
        where = f"row {error.row}" if error.row else "file"
        print(f"{where}, column {error.column}: {error.reason}", file=sys.stderr)
    print(
        f"{result.total_rows} rows: {result.created} created, {result.updated} updated, "
        f"{result.unchanged} unchanged, {result.error_rows} rejected, "
        f"{result.skipped_empty} empty rows skipped"
    )
    if result.errors and args.mode == "all_or_nothing":
        return _fail(
            "nothing was imported (mode all_or_nothing); fix the rows above or use --mode valid_rows"
        )
    return 1 if result.errors else 0


def cmd_export_customers(args: argparse.Namespace) -> int:
    from kefu.core import actors
    from kefu.customers.access import visible_customers
    from kefu.customers.exporting import export_customers
    from kefu.customers.models import Customer

    actor = _user(args.user)
    if actor is not None and not actor.has_perm("customers.export_customers"):
        return _fail(f"user {actor.username!r} may not export customers")
    # As a named user: only what that user may see; without one, the operator's whole database.
    queryset = visible_customers(actor) if actor is not None else Customer.objects.all()
    queryset = queryset.prefetch_related("contacts", "segments")
    path = Path(args.file)
    if not path.parent.is_dir():
        return _fail(f"{path.parent}: no such directory")
    with _progress(queryset.count(), "导出", enabled=not args.no_progress) as bar:
        try:
            count = export_customers(
                path, actor=actor or actors.cli("export customers"), queryset=queryset, progress=bar.update
            )
        except OSError as exc:
            bar.close()
            return _fail(f"{path}: {exc.strerror or exc}")
    print(f"{count} customers written to {path}")
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    from kefu.demo import seed_bulk

    seed_bulk(customers=args.customers, tickets=args.tickets, seed=args.seed, progress=True)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from kefu.demo import DEMO_PASSWORD, demo_logins, seed_demo

    _migrate(verbosity=0)
    seeded = seed_demo(seed=args.seed)
    port = int(os.environ.get("PORT", args.port))
    url = f"http://127.0.0.1:{port}/"
    print("kefu demo " + ("seeded" if seeded else "database found, not re-seeded"))
    print(f"\n  URL: {url}\n  password for every demo login: {DEMO_PASSWORD}\n")
    for role, username in demo_logins():
        print(f"  {role:<16} {username}")
    print()
    sys.stdout.flush()
    worker = subprocess.Popen([sys.executable, "-m", "kefu.cli", "worker"])
    try:
        _granian(
            "kefu.wsgi:application", host=args.host, port=port, workers=1, threads=4, asgi=False, log=False
        ).serve()
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kefu", description="kefu customer-service platform")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="set up and run the demo (SQLite, seeded data, web + worker)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--seed", type=int, default=20261125)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("serve", help="run the web server (granian: WSGI, or ASGI with --asgi)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    p.add_argument("--workers", type=int, default=1, help="processes (default 1)")
    p.add_argument(
        "--threads", help=f"request threads per process, 1–{MAX_THREADS} (default $KEFU_WEB_THREADS or 4)"
    )
    p.add_argument(
        "--asgi", action="store_true", help="serve the ASGI application (WebSockets) instead of WSGI"
    )
    p.add_argument("--access-log", action="store_true")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("worker", help="run background tasks")
    p.add_argument("--interval", type=float, default=1.0)
    p.set_defaults(func=cmd_worker)

    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    sub.add_parser("prune", help="run the hourly maintenance now").set_defaults(func=cmd_prune)

    p = sub.add_parser(
        "createadmin", help="create an administrator (password from KEFU_ADMIN_PASSWORD or prompt)"
    )
    p.add_argument("username")
    p.add_argument("--email", default="")
    p.set_defaults(func=cmd_createadmin)

    token = sub.add_parser("token", help="API tokens").add_subparsers(dest="token_command", required=True)
    p = token.add_parser("create", help="create an API token for a user (printed once)")
    p.add_argument("--user", required=True)
    p.add_argument("--name", default="cli")
    p.set_defaults(func=cmd_token_create)

    imp = sub.add_parser("import", help="import data").add_subparsers(dest="what", required=True)
    p = imp.add_parser("customers", help="import customers and contacts from .xlsx or .csv (UTF-8 or GBK)")
    p.add_argument("file")
    p.add_argument("--mode", choices=["all_or_nothing", "valid_rows"], default="all_or_nothing")
    p.add_argument("--user", help="record the import as this user (default: system)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.set_defaults(func=cmd_import_customers)

    exp = sub.add_parser("export", help="export data").add_subparsers(dest="what", required=True)
    p = exp.add_parser("customers", help="export customers to .xlsx")
    p.add_argument("file")
    p.add_argument("--user", help="export as this user (personal data masked unless the user may see it)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.set_defaults(func=cmd_export_customers)

    p = sub.add_parser("seed", help="bulk-generate synthetic data at benchmark scale")
    p.add_argument("--customers", type=int, default=0)
    p.add_argument(
        "--tickets", type=int, default=0, help="tickets with 1–4 messages each (customers seeded if none)"
    )
    p.add_argument("--seed", type=int, default=1)
    p.set_defaults(func=cmd_seed)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _setup()
    try:
        return int(args.func(args))
    except CommandFailed as exc:
        return _fail(str(exc))


if __name__ == "__main__":
    sys.exit(main())
