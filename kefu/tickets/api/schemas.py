"""Request and response schemas of the tickets API. Inputs are strict (unknown fields are 422)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Schema
from pydantic import ConfigDict

from kefu.core.api import Out
from kefu.core.errors import ValidationFailed
from kefu.core.pagination import DEFAULT_LIMIT, MAX_LIMIT
from kefu.tickets import selectors
from kefu.tickets.enums import Channel, CloseReason, Priority, StatusCategory, TicketType
from kefu.tickets.waybills import waybill_clean

# --- input schemas --------------------------------------------------------------------------------


def aware(value: dt.datetime | None, *, field: str) -> dt.datetime | None:
    """A query string's time in UTC; a naive one is read in the site's time zone. Offsets Python
    accepts but PostgreSQL does not (beyond ±15:59), and instants outside the calendar once moved
    to UTC, are refused as the named field's error."""
    if value is None:
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        raise ValidationFailed.for_field(field, _("时间超出可处理的范围")) from None


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class TicketIn(Strict):
    subject: str = Field(..., max_length=200)
    description: str = Field("", max_length=50_000)
    channel: Channel = Channel.API
    type: TicketType = TicketType.INQUIRY
    category: str | None = Field(None, max_length=32, description="Category code, e.g. delay")
    priority: Priority | None = None
    customer: str | None = Field(None, max_length=32, description="Customer public id")
    contact: str | None = Field(None, max_length=32, description="Contact public id")
    team: int | None = Field(None, description="Team id")
    assignee: int | None = Field(None, description="Agent (user) id")
    custom_fields: dict[str, Any] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list, max_length=20)
    waybills: list[str] = Field(default_factory=list, max_length=50)


class TicketPatch(Strict):
    version: int = Field(..., description="The version you read; a newer stored version gives 409")
    subject: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=50_000)
    type: TicketType | None = None
    category: str | None = Field(None, max_length=32, description="Category code; null clears it")
    priority: Priority | None = None
    contact: str | None = Field(None, max_length=32, description="Contact public id; null clears it")
    custom_fields: dict[str, Any] | None = None
    add_tags: list[str] = Field(default_factory=list, max_length=20)
    remove_tags: list[str] = Field(default_factory=list, max_length=20)
    waybills: list[str] | None = Field(None, max_length=50, description="The full list, replacing the old")


NOT_NULL = ("subject", "description", "type", "priority", "custom_fields")


class AssignIn(Strict):
    assignee: int | None = Field(None, description="Agent id; null unassigns")
    team: int | None = Field(None, description="Team id; omit to keep the team")
    version: int | None = None


class TransitionIn(Strict):
    status: str = Field(..., max_length=32, description="Status code, e.g. waiting-customer")
    version: int | None = None


class ResolveIn(Strict):
    solution_summary: str = Field(..., max_length=5000)
    version: int | None = None


class CloseIn(Strict):
    satisfaction_confirmed: bool
    reason: CloseReason = CloseReason.CONFIRMED
    note: str = Field("", max_length=255)
    version: int | None = None


class ReopenIn(Strict):
    reason: str = Field("", max_length=5000)


class RejectIn(Strict):
    reason: str = Field(..., min_length=1, max_length=5000)


class MessageIn(Strict):
    body: str = Field(..., max_length=50_000)
    seen_version: int | None = Field(
        None, description="The ticket version you saw while writing; older → 409 and nothing is sent"
    )


QueueName = Literal[
    "mine", "team", "unassigned", "vip", "waiting_on_me", "due_soon", "work_orders", "recent", "all"
]


class TicketQuery(Schema):
    queue: QueueName = "all"
    status_category: list[StatusCategory] = Field(default_factory=list)
    status: list[str] = Field(default_factory=list)
    type: list[TicketType] = Field(default_factory=list)
    category: list[str] = Field(default_factory=list)
    priority: list[Priority] = Field(default_factory=list)
    channel: list[Channel] = Field(default_factory=list)
    customer: str = Field("", max_length=32, description="Customer public id")
    assignee: int | None = None
    team: int | None = None
    tags: list[str] = Field(default_factory=list)
    created_from: dt.datetime | None = None
    created_to: dt.datetime | None = None
    q: str = Field("", max_length=100, description="Full text (Chinese or English) or a ticket number")
    waybill: str = Field("", max_length=40)
    cursor: str | None = None
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)

    def to_filters(self) -> selectors.TicketFilters:
        return selectors.TicketFilters(
            status_category=[str(s) for s in self.status_category],
            status=self.status,
            type=[str(t) for t in self.type],
            category=self.category,
            priority=[str(p) for p in self.priority],
            channel=[str(c) for c in self.channel],
            customer=self.customer,
            assignee=self.assignee,
            team=self.team,
            tags=self.tags,
            created_from=aware(self.created_from, field="created_from"),
            created_to=aware(self.created_to, field="created_to"),
            q=self.q,
            waybill=waybill_clean(self.waybill, field="waybill") if self.waybill.strip() else "",
        )


class ChangesQuery(Schema):
    since: dt.datetime = Field(..., description="ISO time; tickets changed at or after it")
    cursor: str | None = Field(None, description="next_cursor of the previous call")
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


# --- output schemas -------------------------------------------------------------------------------


class Ref(Out):
    code: str
    name: str


class StatusOut(Out):
    code: str
    name: str
    category: str


class PartyOut(Out):
    id: str
    name: str


class AgentOut(Out):
    id: int
    username: str
    full_name: str


class TeamOut(Out):
    id: int
    name: str


class InternalOut(Out):
    """Only for staff: null for portal users."""

    team: TeamOut | None
    assignee: AgentOut | None
    tags: list[str]
    is_problem: bool


class InternalDetailOut(InternalOut):
    problem: str | None
    merged_into: str | None
    close_note: str
    notes: int


class TicketSummaryOut(Out):
    id: str
    number: str
    subject: str
    channel: str
    type: str
    priority: str
    category: Ref | None
    status: StatusOut
    customer: PartyOut | None
    waybills: list[str]
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    internal: InternalOut | None


class CountsOut(Out):
    messages: int
    attachments: int


class TicketOut(TicketSummaryOut):
    description: str
    contact: PartyOut | None
    custom_fields: dict[str, Any]
    solution_summary: str
    satisfaction_confirmed: bool | None
    close_reason: str
    reopened_count: int
    first_response_at: dt.datetime | None
    resolved_at: dt.datetime | None
    closed_at: dt.datetime | None
    counts: CountsOut
    internal: InternalDetailOut | None


class TicketPage(Out):
    items: list[TicketSummaryOut]
    next_cursor: str | None


class ChangesPage(Out):
    items: list[TicketSummaryOut]
    next_cursor: str | None = Field(description="Pass back as cursor; kept when nothing changed yet")
    has_more: bool


class AttachmentOut(Out):
    id: str
    name: str
    size: int
    content_type: str


class MessageOut(Out):
    id: int
    visibility: str
    author_kind: str
    author: str
    body_html: str
    body_text: str
    created_at: dt.datetime
    attachments: list[AttachmentOut]


class RevealIn(Strict):
    reason: str = Field(..., max_length=500, description="Why the whole number is needed, e.g. 客户要求回电")


class RevealOut(Out):
    contact: PartyOut
    phone: str = Field(description="The contact's whole phone number, national format")
