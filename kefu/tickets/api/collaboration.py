"""Working together: merge, split, links, cross-department subtasks (协作单), problem tickets and incidents."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Schema

from kefu.core.errors import NotFound, PermissionDenied, ValidationFailed
from kefu.tickets import console
from kefu.tickets.access import access_ticket
from kefu.tickets.api.common import (
    agent_ref,
    category_ref,
    is_portal,
    router,
    shown,
    writable,
)
from kefu.tickets.api.schemas import (
    AgentOut,
    Strict,
    TicketOut,
)
from kefu.tickets.enums import ACTIVE_CATEGORIES, Department, LinkKind, SubtaskStatus
from kefu.tickets.models import Category, IncidentRule, Subtask, Ticket
from kefu.tickets.services.incidents import (
    incident_link,
    incident_rule_clear,
    incident_rule_set,
    incidents_link_by_waybill,
)
from kefu.tickets.services.merge_split_link import (
    INHERIT,
    ticket_link,
    ticket_merge,
    ticket_split,
    ticket_unlink,
)
from kefu.tickets.services.problems import problem_mark, problem_post_update, problem_resolve
from kefu.tickets.services.work_orders import subtask_create, subtask_set_status, subtask_update

# --- working together: merge, split, links, subtasks, problems ------------------------------------
# Staff writers only (portal users get 403, QA and analysts 403); the problem services also require
# ``tickets.manage_problem`` themselves. A ticket named in a body that the caller cannot see is a 422 on
# that field, exactly like a ticket that does not exist.


class MergeIn(Strict):
    into: str = Field(..., max_length=32, description="The surviving ticket (public id or number)")


class SplitIn(Strict):
    message: int = Field(..., description="Id of the message that becomes the new ticket")
    subject: str = Field(..., max_length=200)
    category: str | None = Field(
        None,
        max_length=32,
        description="The new ticket's category code (null: none); omitted: the original's category",
    )
    custom_fields: dict[str, Any] | None = Field(
        None,
        description="The new ticket's custom fields, checked against its category's required fields; "
        "omitted with the category omitted: the original's",
    )


class LinkIn(Strict):
    other: str = Field(..., max_length=32, description="Public id or number of the other ticket")
    kind: LinkKind = LinkKind.RELATED


class LinkOut(Schema):
    source: str
    target: str
    kind: str
    created_at: dt.datetime


class SubtaskIn(Strict):
    department: Department
    title: str = Field(..., max_length=200)
    deadline: dt.datetime
    problem_description: str = Field(..., max_length=5000)
    support_needed: str = Field(..., max_length=5000)
    current_progress: str = Field("", max_length=5000)
    assignee: int | None = None
    external_party: str = Field("", max_length=100)
    mandatory: bool = True
    carrier_contact: str = Field("", max_length=100)
    tracking_evidence: str = Field("", max_length=5000)


class SubtaskPatch(Strict):
    version: int = Field(..., description="The version you read; a newer stored version gives 409")
    department: Department | None = None
    title: str | None = Field(None, max_length=200)
    deadline: dt.datetime | None = None
    problem_description: str | None = Field(None, max_length=5000)
    support_needed: str | None = Field(None, max_length=5000)
    current_progress: str | None = Field(None, max_length=5000)
    assignee: int | None = Field(None, description="Agent id; null clears it")
    external_party: str | None = Field(None, max_length=100)
    mandatory: bool | None = None
    carrier_contact: str | None = Field(None, max_length=100)
    tracking_evidence: str | None = Field(None, max_length=5000)


class SubtaskStatusIn(Strict):
    status: SubtaskStatus


class SubtaskOut(Schema):
    id: int
    department: str
    title: str
    status: str
    assignee: AgentOut | None
    external_party: str
    deadline: dt.datetime
    mandatory: bool
    problem_description: str
    current_progress: str
    support_needed: str
    carrier_contact: str
    tracking_evidence: str
    created_at: dt.datetime
    completed_at: dt.datetime | None
    version: int


class IncidentsIn(Strict):
    tickets: list[str] = Field(default_factory=list, max_length=200, description="Public ids or numbers")
    waybills: list[str] = Field(
        default_factory=list, max_length=200, description="Link every open ticket about these"
    )


class IncidentsOut(Schema):
    linked: list[str]


class ProblemUpdateIn(Strict):
    body: str = Field(..., max_length=50_000)
    update_id: str = Field(
        ..., max_length=64, description="Your id for this update: a retry posts nothing twice"
    )


class ProblemUpdateOut(Schema):
    posted: int


class ProblemResolveIn(Strict):
    solution_summary: str = Field(..., max_length=5000)
    resolve_incidents: bool = True


class ProblemResolveOut(Schema):
    problem: TicketOut
    resolved: list[str]
    skipped: list[str]


class IncidentRuleIn(Strict):
    waybills: list[str] = Field(default_factory=list, max_length=1000, description="Waybill numbers")
    route_nodes: list[str] = Field(
        default_factory=list,
        max_length=50,
        description="Hub, outlet or city names, matched in the new ticket's exception node",
    )
    categories: list[str] = Field(
        default_factory=list, max_length=50, description="Category codes; empty: any category"
    )
    ends_at: dt.datetime | None = Field(
        None, description="Link nothing after this time; null: until resolved"
    )


class IncidentRuleOut(Schema):
    waybills: list[str]
    route_nodes: list[str]
    categories: list[str]
    ends_at: dt.datetime | None
    in_force: bool
    updated_at: dt.datetime


def _rule_out(rule: IncidentRule) -> dict[str, Any]:
    problem = rule.problem
    return {
        "waybills": rule.waybills,
        "route_nodes": rule.route_nodes,
        "categories": sorted(c.code for c in rule.categories.all()),
        "ends_at": rule.ends_at,
        "in_force": problem.is_problem
        and problem.status_category in ACTIVE_CATEGORIES
        and (rule.ends_at is None or rule.ends_at > timezone.now()),
        "updated_at": rule.updated_at,
    }


def _subtask_out(subtask: Subtask) -> dict[str, Any]:
    assignee = subtask.assignee
    return {
        "id": subtask.pk,
        "department": subtask.department,
        "title": subtask.title,
        "status": subtask.status,
        "assignee": {"id": assignee.pk, "username": assignee.username, "full_name": assignee.full_name}
        if assignee
        else None,
        "external_party": subtask.external_party,
        "deadline": subtask.deadline,
        "mandatory": subtask.mandatory,
        "problem_description": subtask.problem_description,
        "current_progress": subtask.current_progress,
        "support_needed": subtask.support_needed,
        "carrier_contact": subtask.carrier_contact,
        "tracking_evidence": subtask.tracking_evidence,
        "created_at": subtask.created_at,
        "completed_at": subtask.completed_at,
        "version": subtask.version,
    }


def _subtask_of(ticket: Ticket, subtask_id: int) -> Subtask:
    subtask = ticket.subtasks.select_related("assignee").filter(pk=subtask_id).first()
    if subtask is None:
        raise NotFound(_("协作单不存在"))
    return subtask


@router.post("/{ref}/merge", response=TicketOut, summary="Merge this duplicate into another ticket")
def merge_ticket(request: HttpRequest, ref: str, payload: MergeIn) -> dict[str, Any]:
    source = writable(request, ref)
    target = console.other_ticket(request.user, payload.into, field="into")
    survivor = ticket_merge(actor=request.user, source=source, target=target)
    return shown(request, survivor)


@router.post("/{ref}/split", response={201: TicketOut}, summary="Move one message into a new ticket")
def split_ticket(request: HttpRequest, ref: str, payload: SplitIn) -> dict[str, Any]:
    ticket = writable(request, ref)
    message = ticket.messages.filter(pk=payload.message).first()
    if message is None:
        raise ValidationFailed.for_field("message", _("该工单没有这条消息"))
    given = payload.model_fields_set
    new = ticket_split(
        actor=request.user,
        message=message,
        subject=payload.subject,
        category=category_ref(payload.category) if "category" in given else INHERIT,
        custom_fields=payload.custom_fields,
    )
    return shown(request, new)


@router.post("/{ref}/links", response={201: LinkOut}, summary="Link to another ticket")
def link_ticket(request: HttpRequest, ref: str, payload: LinkIn) -> dict[str, Any]:
    ticket = writable(request, ref)
    other = console.other_ticket(request.user, payload.other, field="other")
    link = ticket_link(actor=request.user, ticket=ticket, other=other, kind=payload.kind)
    return {"source": ticket.number, "target": other.number, "kind": link.kind, "created_at": link.created_at}


@router.delete("/{ref}/links/{other}", response={204: None}, summary="Remove a link (?kind=related)")
def unlink_ticket(request: HttpRequest, ref: str, other: str, kind: LinkKind = LinkKind.RELATED) -> None:
    ticket = writable(request, ref)
    ticket_unlink(
        actor=request.user,
        ticket=ticket,
        other=console.other_ticket(request.user, other, field="other"),
        kind=kind,
    )


@router.get("/{ref}/subtasks", response=list[SubtaskOut], summary="Cross-department work orders (staff)")
def list_subtasks(request: HttpRequest, ref: str) -> list[dict[str, Any]]:
    ticket = access_ticket(request.user, ref)
    if is_portal(request.user):
        raise PermissionDenied(_("协作单仅供内部查看"))
    return [_subtask_out(s) for s in ticket.subtasks.select_related("assignee")]


@router.post("/{ref}/subtasks", response={201: SubtaskOut}, summary="Hand part of the ticket to a department")
def create_subtask(request: HttpRequest, ref: str, payload: SubtaskIn) -> dict[str, Any]:
    ticket = writable(request, ref)
    values = payload.model_dump()
    values["assignee"] = agent_ref(payload.assignee)
    subtask = subtask_create(actor=request.user, ticket=ticket, **values)
    return _subtask_out(subtask)


SUBTASK_NOT_NULL = (
    "department",
    "title",
    "deadline",
    "problem_description",
    "support_needed",
    "current_progress",
    "external_party",
    "mandatory",
    "carrier_contact",
    "tracking_evidence",
)


@router.patch(
    "/{ref}/subtasks/{subtask_id}", response=SubtaskOut, summary="Edit a work order (`version` required)"
)
def update_subtask(request: HttpRequest, ref: str, subtask_id: int, payload: SubtaskPatch) -> dict[str, Any]:
    ticket = writable(request, ref)
    subtask = _subtask_of(ticket, subtask_id)
    changes = payload.model_dump(exclude_unset=True)
    version = changes.pop("version")
    nulls = sorted(name for name in SUBTASK_NOT_NULL if name in changes and changes[name] is None)
    if nulls:
        raise ValidationFailed(
            _("请求数据有误，请检查各字段"), fields={name: [_("不能为空")] for name in nulls}
        )
    if "assignee" in changes:
        changes["assignee"] = agent_ref(changes["assignee"])
    updated = subtask_update(actor=request.user, subtask=subtask, version=version, **changes)
    return _subtask_out(updated)


@router.post("/{ref}/subtasks/{subtask_id}/status", response=SubtaskOut, summary="Move a work order")
def set_subtask_status(
    request: HttpRequest, ref: str, subtask_id: int, payload: SubtaskStatusIn
) -> dict[str, Any]:
    ticket = writable(request, ref)
    subtask = subtask_set_status(
        actor=request.user, subtask=_subtask_of(ticket, subtask_id), status=payload.status
    )
    return _subtask_out(subtask)


@router.post("/{ref}/problem", response=TicketOut, summary="Make this the problem ticket of an outage")
def mark_problem(request: HttpRequest, ref: str) -> dict[str, Any]:
    ticket = writable(request, ref)
    return shown(request, problem_mark(actor=request.user, ticket=ticket))


@router.post("/{ref}/incidents", response=IncidentsOut, summary="Link incidents to this problem ticket")
def link_incidents(request: HttpRequest, ref: str, payload: IncidentsIn) -> dict[str, Any]:
    problem = writable(request, ref)
    if not payload.tickets and not payload.waybills:
        raise ValidationFailed.for_field("tickets", _("请至少指定一个工单或运单号"))
    linked: list[Ticket] = []
    with transaction.atomic():  # tickets and waybills together, or nothing
        if payload.tickets:
            incidents = console.other_tickets(request.user, payload.tickets, field="tickets")
            linked += incident_link(actor=request.user, problem=problem, incidents=incidents)
        if payload.waybills:
            linked += incidents_link_by_waybill(
                actor=request.user, problem=problem, waybill_nos=payload.waybills
            )
    return {"linked": [t.number for t in linked]}


@router.post(
    "/{ref}/problem-updates",
    response=ProblemUpdateOut,
    summary="Post one public update to every open incident (update_id makes retries safe)",
)
def post_problem_update(request: HttpRequest, ref: str, payload: ProblemUpdateIn) -> dict[str, Any]:
    problem = writable(request, ref)
    messages = problem_post_update(
        actor=request.user, problem=problem, body=payload.body, update_id=payload.update_id
    )
    return {"posted": len(messages)}


@router.post(
    "/{ref}/problem-resolve",
    response=ProblemResolveOut,
    summary="Resolve the problem and (by default) its open incidents",
)
def resolve_problem(request: HttpRequest, ref: str, payload: ProblemResolveIn) -> dict[str, Any]:
    problem = writable(request, ref)
    result = problem_resolve(
        actor=request.user,
        problem=problem,
        solution_summary=payload.solution_summary,
        resolve_incidents=payload.resolve_incidents,
    )
    return {
        "problem": shown(request, result.problem),
        "resolved": [t.number for t in result.resolved],
        "skipped": [t.number for t in result.skipped],
    }


@router.get("/{ref}/incident-rule", response=IncidentRuleOut, summary="The problem's automatic linking rule")
def get_incident_rule(request: HttpRequest, ref: str) -> dict[str, Any]:
    ticket = access_ticket(request.user, ref)
    if is_portal(request.user):
        raise PermissionDenied(_("自动关联规则仅供内部查看"))
    rule = IncidentRule.objects.filter(problem=ticket).select_related("problem").first()
    if rule is None:
        raise NotFound(_("该工单没有自动关联规则"))
    return _rule_out(rule)


@router.put(
    "/{ref}/incident-rule",
    response=IncidentRuleOut,
    summary="Set the rule that links new tickets to this problem (by waybill and/or route node)",
)
def set_incident_rule(request: HttpRequest, ref: str, payload: IncidentRuleIn) -> dict[str, Any]:
    problem = writable(request, ref)
    found = {c.code: c for c in Category.objects.filter(code__in=payload.categories, is_active=True)}
    unknown = [code for code in payload.categories if code not in found]
    if unknown:
        raise ValidationFailed.for_field(
            "categories", _("分类不存在：%(codes)s") % {"codes": _("、").join(unknown)}
        )
    rule = incident_rule_set(
        actor=request.user,
        problem=problem,
        waybills=payload.waybills,
        route_nodes=payload.route_nodes,
        categories=list(found.values()),
        ends_at=payload.ends_at,
    )
    return _rule_out(rule)


@router.delete("/{ref}/incident-rule", response={204: None}, summary="Stop linking new tickets automatically")
def clear_incident_rule(request: HttpRequest, ref: str) -> None:
    problem = writable(request, ref)
    incident_rule_clear(actor=request.user, problem=problem)
