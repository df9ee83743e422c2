"""Parsing of the console's and the portal's form input into what selectors and services take."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.core.errors import ValidationFailed
from kefu.core.pagination import keyset_order, keyset_page
from kefu.tickets.enums import ACTIVE_CATEGORIES, FieldKind, StatusCategory
from kefu.tickets.models import CustomField, Ticket
from kefu.tickets.selectors import TicketFilters

PAGE_SIZE = 50
FILTER_KEYS = (
    "status_category",
    "type",
    "category",
    "priority",
    "channel",
    "customer",
    "assignee",
    "team",
    "tags",
    "created_from",
    "created_to",
    "q",
)


def _day(value: str, *, end: bool = False) -> dt.datetime | None:
    day = parse_date(value.strip()) if value.strip() else None
    if day is None:
        return None
    if end:
        day += dt.timedelta(days=1)
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _list(data: QueryDict, key: str) -> list[str]:
    return [v for v in data.getlist(key) if v]


# Groups of status categories the queue's status filter offers besides single ones (the workspace's
# figures link to them): value → (label, categories).
STATUS_GROUPS: dict[str, tuple[Any, tuple[str, ...]]] = {
    "active": (gettext_lazy("未完成"), ACTIVE_CATEGORIES),
    "ours": (gettext_lazy("等待我方处理"), (StatusCategory.NEW, StatusCategory.OPEN)),
}


def _status_categories(data: QueryDict) -> list[str]:
    values: list[str] = []
    for value in _list(data, "status_category"):
        values.extend(STATUS_GROUPS[value][1] if value in STATUS_GROUPS else [value])
    return list(dict.fromkeys(values))


def status_group(data: QueryDict) -> str:
    """The status group the query names (``""`` for none)."""
    return next((v for v in _list(data, "status_category") if v in STATUS_GROUPS), "")


def parse_filters(data: QueryDict) -> TicketFilters:
    assignee = data.get("assignee", "")
    team = data.get("team", "")
    tags = [t.strip() for v in _list(data, "tags") for t in v.split(",") if t.strip()]
    return TicketFilters(
        status_category=_status_categories(data),
        type=_list(data, "type"),
        category=_list(data, "category"),
        priority=_list(data, "priority"),
        channel=_list(data, "channel"),
        customer=data.get("customer", "").strip()[:32],
        assignee=int(assignee) if assignee.isdigit() else None,
        team=int(team) if team.isdigit() else None,
        tags=tags,
        created_from=_day(data.get("created_from", "")),
        created_to=_day(data.get("created_to", ""), end=True),
        q=data.get("q", "")[:100],
    )


def filter_params(data: QueryDict) -> dict[str, list[str]]:
    """The filter part of a query string, as saved views keep it."""
    return {key: _list(data, key) for key in FILTER_KEYS if _list(data, key)}


# --- sorting and keyset pagination of ticket lists -------------------------------------------------

# The orders a ticket list offers: each is a keyset ``kefu.core.pagination`` pages through, and each is
# served by the ticket indexes (``updated_at`` ones, the primary key). "created" orders by id: tickets
# are numbered and stored in the order they are created, so the id is the creation order, and a sort
# by ``created_at`` would need another index on every queue. ``-`` is newest first.
SORTS: dict[str, tuple[str | None, bool]] = {
    "-updated": ("updated_at", True),
    "updated": ("updated_at", False),
    "-created": (None, True),
    "created": (None, False),
}
DEFAULT_SORT = "-updated"


def parse_sort(value: str) -> str:
    return value if value in SORTS else DEFAULT_SORT


def ordered(queryset: QuerySet[Ticket], sort: str) -> QuerySet[Ticket]:
    """``queryset`` in ``sort`` order, as ``page_of`` reads it (for plans and benchmarks)."""
    by, descending = SORTS[parse_sort(sort)]
    return keyset_order(queryset, by=by, descending=descending)


def page_of(
    queryset: QuerySet[Ticket], cursor: str, sort: str = DEFAULT_SORT
) -> tuple[list[Ticket], str | None]:
    """One page of ``PAGE_SIZE`` tickets in ``sort`` order after ``cursor`` (a bad cursor: 422)."""
    by, descending = SORTS[parse_sort(sort)]
    page = keyset_page(queryset, cursor=cursor or None, limit=PAGE_SIZE, by=by, descending=descending)
    return page.items, page.next_cursor


# --- custom fields --------------------------------------------------------------------------------


def parse_custom_fields(data: QueryDict, fields: list[CustomField]) -> dict[str, Any]:
    """``cf_<key>`` inputs typed per the field's kind; empty ones are left out (the service then says
    which required ones are missing)."""
    values: dict[str, Any] = {}
    for spec in fields:
        raw = data.get(f"cf_{spec.key}", "").strip()
        if spec.kind == FieldKind.BOOL:
            if raw:
                values[spec.key] = raw in ("1", "true", "on", "yes")
            continue
        if not raw:
            continue
        if spec.kind == FieldKind.NUMBER:
            try:
                values[spec.key] = int(raw) if raw.lstrip("-").isdigit() else float(raw)
            except ValueError:
                values[spec.key] = raw
        else:
            values[spec.key] = raw
    return values


def parse_int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def parse_local_datetime(value: str) -> dt.datetime | None:
    moment = parse_datetime(value.strip()) if value.strip() else None
    if moment is not None and timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


# --- the call log's choice of what happens to tickets ---------------------------------------------

CALL_LOG_ONLY, CALL_NEW_TICKET, CALL_EXISTING_TICKET = "none", "new", "existing"
CALL_TICKET_MODES = (CALL_LOG_ONLY, CALL_NEW_TICKET, CALL_EXISTING_TICKET)
_NEW_TICKET_INPUTS = ("subject", "category", "waybills")


def call_ticket_mode(data: QueryDict) -> str:
    """The agent's one choice — log only, open a new ticket, add to an existing one — refusing input
    typed for a choice not made: the form never drops what the agent typed without saying so."""
    mode = data.get("ticket_mode", CALL_LOG_ONLY)
    if mode not in CALL_TICKET_MODES:
        raise ValidationFailed.for_field("ticket_mode", _("请选择是否建工单"))
    typed_new = any(data.get(name, "").strip() for name in _NEW_TICKET_INPUTS) or any(
        str(data.get(key, "")).strip() for key in data if key.startswith("cf_")
    )
    if typed_new and mode != CALL_NEW_TICKET:
        raise ValidationFailed.for_field(
            "ticket_mode",
            _(
                "你填写了新工单的内容（主题、分类、运单号等），但没有选择“记录并新建工单”：请改选，或清空这些内容"
            ),
        )
    if data.get("existing_ticket", "").strip() and mode != CALL_EXISTING_TICKET:
        raise ValidationFailed.for_field(
            "ticket_mode", _("你填写了已有工单号，但没有选择“记录到已有工单”：请改选，或清空工单号")
        )
    return mode
