from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kefu.core import notifications
from kefu.core.context_processors import Bell
from kefu.core.errors import NotFound
from kefu.core.models import Notification
from kefu.core.web import staff_view


def _database_answers() -> None:
    """SELECT 1 within KEFU_HEALTHZ_TIMEOUT seconds. On PostgreSQL on a connection of its own, not one
    from the pool: a pool waits KEFU_DB_POOL_TIMEOUT for a connection that cannot be made, and a load
    balancer wants its answer sooner."""
    timeout = settings.KEFU_HEALTHZ_TIMEOUT
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return
    import psycopg

    params = {
        k: v
        for k, v in connection.get_connection_params().items()
        if k in ("dbname", "user", "password", "host", "port", "sslmode", "sslrootcert", "sslcert", "sslkey")
    }
    with psycopg.connect(
        **params,
        connect_timeout=max(1, int(timeout)),
        options=f"-c statement_timeout={int(timeout * 1000)}",
    ) as db:
        db.execute("SELECT 1").fetchone()


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database (and Redis, when configured) answer within KEFU_HEALTHZ_TIMEOUT; 503 naming
    what failed otherwise."""
    checks: dict[str, str] = {}
    try:
        _database_answers()
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {exc.__class__.__name__}"
    if settings.REDIS_URL:
        try:
            import redis

            timeout = settings.KEFU_HEALTHZ_TIMEOUT
            redis.Redis.from_url(
                settings.REDIS_URL, socket_timeout=timeout, socket_connect_timeout=timeout
            ).ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"error: {exc.__class__.__name__}"
    healthy = all(v == "ok" for v in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "error", "checks": checks}, status=200 if healthy else 503
    )


# --- notifications (the bell in the top bar and its list) ------------------------------------------


def _shown(items: list[Notification]) -> list[tuple[Notification, str]]:
    return [(n, notifications.text_of(n)) for n in items]


def notification_bell(request: HttpRequest) -> HttpResponse:
    """The bell with the unread count, polled by every staff page (one bounded index scan). Signed
    out (the session ended in another tab): HTTP 286, which tells htmx to stop polling."""
    if not request.user.is_authenticated or getattr(request.user, "is_portal_user", False):
        return HttpResponse(status=286)
    return render(request, "notifications/_bell.html", {"bell": Bell(request.user)})


@staff_view()
def notification_list(request: HttpRequest) -> HttpResponse:
    """The latest notifications; ``?panel=1`` is the bell's drop-down (the latest few)."""
    panel = request.GET.get("panel") == "1"
    items = notifications.recent_for(request.user, limit=8 if panel else notifications.LIST_SIZE)
    context = {"items": _shown(items), "bell": Bell(request.user)}
    return render(request, "notifications/_panel.html" if panel else "notifications/list.html", context)


@require_POST
@staff_view()
def notification_read(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Mark one read; with ``open``, go where it points (its stored link, never one from the form)."""
    notification = notifications.notification_mark_read(user=request.user, notification_id=notification_id)
    if notification is None:
        raise NotFound(_("通知不存在"))
    if (
        request.POST.get("open")
        and notification.url.startswith("/")
        and not notification.url.startswith("//")
    ):
        return redirect(notification.url)
    return redirect("notification-list")


@require_POST
@staff_view()
def notification_read_all(request: HttpRequest) -> HttpResponse:
    count = notifications.notifications_mark_all_read(user=request.user)
    messages.success(request, _("已将 %(count)s 条通知标为已读") % {"count": count})
    return redirect("notification-list")
