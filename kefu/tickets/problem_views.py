"""The problem section of the ticket page (``tickets/_problem.html``): mark a ticket as the problem of an
outage, link its incidents (by number, by waybill, in bulk from a queue filter or saved view), set the
automatic linking rule, post one update to every incident and resolve them together.

Views parse and call the services (``services.incidents``, ``services.problems``), which check
``tickets.manage_problem`` themselves; the template only hides the controls. A refused request
re-renders the ticket page with the error (422) and changes nothing."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from kefu.accounts.http import AuthedRequest
from kefu.core.errors import Conflict, KefuError, NotFound, ValidationFailed
from kefu.core.web import form_errors, staff_view
from kefu.tickets import console, forms, selectors, ticket_page, waybills
from kefu.tickets.access import access_ticket, require_agent_write
from kefu.tickets.enums import StatusCategory
from kefu.tickets.models import Ticket
from kefu.tickets.services.incidents import (
    incident_link,
    incident_rule_clear,
    incident_rule_set,
    incidents_link_by_waybill,
)
from kefu.tickets.services.problems import (
    problem_mark,
    problem_post_update,
    problem_resolve,
)

# A bulk link from a filter refuses more than this many tickets: narrow the filter instead.
MAX_BULK_LINK = 1000


def _lines(value: str) -> list[str]:
    """Split a textarea or input of numbers or names on commas, 、, spaces and new lines."""
    for separator in ("，", "、", "\n", "\r", "\t", " "):
        value = value.replace(separator, ",")
    return [part.strip() for part in value.split(",") if part.strip()]


def _filter_query(request: AuthedRequest) -> QueryDict:
    """The queue filter to link from: a saved view the user may use, or a pasted queue query string
    (or whole queue URL). Parsed by the queue's own parser, ``forms.parse_filters``."""
    view_id = forms.parse_int(request.POST.get("saved_view"))
    if view_id is not None:
        view = console.saved_views_for(request.user).filter(pk=view_id).first()
        if view is None:
            raise ValidationFailed.for_field("saved_view", _("保存的视图不存在"))
        return QueryDict(urlencode(view.filters, doseq=True))
    raw = request.POST.get("query", "").strip()
    return QueryDict(raw.split("?", 1)[1] if "?" in raw else raw)


def _link_from_filter(request: AuthedRequest, problem: Ticket) -> list[Ticket]:
    query = _filter_query(request)
    if not forms.filter_params(query):
        raise ValidationFailed.for_field("query", _("请选择保存的视图或填写队列筛选条件，不能关联全部工单"))
    queue = query.get("queue", "all")
    if queue not in selectors.QUEUES:
        raise ValidationFailed.for_field("query", _("队列 %(queue)s 不存在") % {"queue": queue})
    candidates = (
        selectors.ticket_list(request.user, queue=queue, filters=forms.parse_filters(query))
        .filter(problem=None, is_problem=False)
        .exclude(status_category=StatusCategory.CLOSED)
        .exclude(pk=problem.pk)
    )
    found = candidates.count()
    if found == 0:
        raise ValidationFailed.for_field("query", _("没有符合筛选条件、可关联的工单"))
    if found > MAX_BULK_LINK:
        raise ValidationFailed.for_field(
            "query",
            _("符合条件的工单有 %(count)s 张，超过上限 %(max)s，请缩小筛选范围")
            % {"count": found, "max": MAX_BULK_LINK},
        )
    return incident_link(actor=request.user, problem=problem, incidents=candidates)


def _link(request: AuthedRequest, problem: Ticket) -> str:
    post = request.POST
    mode = post.get("mode", "")
    if mode == "numbers":
        numbers = _lines(post.get("numbers", ""))
        if not numbers:
            raise ValidationFailed.for_field("numbers", _("请至少填写一个工单号"))
        incidents = console.other_tickets(request.user, numbers, field="numbers")
        linked = incident_link(actor=request.user, problem=problem, incidents=incidents)
    elif mode == "waybills":
        linked = incidents_link_by_waybill(
            actor=request.user, problem=problem, waybill_nos=waybills.split(post.get("waybills", ""))
        )
    elif mode == "filter":
        linked = _link_from_filter(request, problem)
    else:
        raise ValidationFailed.for_field("mode", _("请选择关联方式"))
    if not linked:
        return _("没有新关联的工单（可能都已关联）")
    return _("已关联 %(count)s 张事件工单") % {"count": len(linked)}


def _rule(request: AuthedRequest, problem: Ticket) -> str:
    post = request.POST
    if post.get("clear") == "1":
        incident_rule_clear(actor=request.user, problem=problem)
        return _("自动关联规则已删除")
    codes = post.getlist("categories")
    categories = [c for c in console.categories() if c.code in codes]
    unknown = sorted(set(codes) - {c.code for c in categories})
    if unknown:
        raise ValidationFailed.for_field(
            "categories", _("分类不存在：%(codes)s") % {"codes": _("、").join(unknown)}
        )
    raw_end = post.get("ends_at", "").strip()
    ends_at = forms.parse_local_datetime(raw_end)
    if raw_end and ends_at is None:
        raise ValidationFailed.for_field("ends_at", _("截止时间格式无效"))
    incident_rule_set(
        actor=request.user,
        problem=problem,
        waybills=waybills.split(post.get("waybills", "")),
        route_nodes=_lines(post.get("route_nodes", "")),
        categories=categories,
        ends_at=ends_at,
    )
    return _("自动关联规则已保存")


def _update(request: AuthedRequest, problem: Ticket) -> str:
    posted = problem_post_update(
        actor=request.user,
        problem=problem,
        body=request.POST.get("body", ""),
        update_id=request.POST.get("update_id", ""),
    )
    return _("更新已发送给 %(count)s 张未解决的事件工单") % {"count": len(posted)}


def _resolve(request: AuthedRequest, problem: Ticket) -> str:
    result = problem_resolve(
        actor=request.user,
        problem=problem,
        solution_summary=request.POST.get("solution_summary", ""),
        resolve_incidents=request.POST.get("resolve_incidents") == "1",
    )
    done = _("问题工单已解决，同时解决 %(count)s 张事件工单") % {"count": len(result.resolved)}
    if result.skipped:
        done += _("；%(numbers)s 有未完成的必须协作单，未解决") % {
            "numbers": _("、").join(t.number for t in result.skipped)
        }
    return done


def _mark(request: AuthedRequest, ticket: Ticket) -> str:
    problem_mark(actor=request.user, ticket=ticket)
    return _("已设为问题工单")


OPERATIONS: dict[str, Callable[[AuthedRequest, Ticket], str]] = {
    "mark": _mark,
    "link": _link,
    "rule": _rule,
    "update": _update,
    "resolve": _resolve,
}
_TITLES = {
    "mark": gettext_lazy("设为问题工单"),
    "link": gettext_lazy("关联事件工单"),
    "rule": gettext_lazy("自动关联规则"),
    "update": gettext_lazy("群发更新"),
    "resolve": gettext_lazy("解决问题工单"),
}


@require_http_methods(["GET", "POST"])
@staff_view("tickets.view_ticket")
def problem_action(request: AuthedRequest, number: str, op: str) -> HttpResponse:
    """POST: the operation, then back to the ticket; refused, the ticket page with the errors at this
    address — which a GET answers with the ticket page, so the address loads after an error too."""
    handler = OPERATIONS.get(op)
    if handler is None:
        raise NotFound(_("页面不存在"))
    ticket = access_ticket(request.user, number)
    if request.method == "GET":
        shown = selectors.ticket_detail(request.user, number)
        context = ticket_page.detail_context(request, shown, problem_op=op, problem_values={})
        return render(request, "tickets/detail.html", context)
    require_agent_write(request.user)
    try:
        with transaction.atomic():  # a refused bulk step leaves nothing half done
            done = handler(request, ticket)
    except (ValidationFailed, Conflict) as exc:
        return _refused(request, number, op, exc)
    messages.success(request, done)
    return redirect("ticket-detail", number=number)


def _refused(request: AuthedRequest, number: str, op: str, exc: KefuError) -> HttpResponse:
    context = ticket_page.detail_context(
        request,
        selectors.ticket_detail(request.user, number),
        problem_op=op,
        problem_values=request.POST,
        **form_errors(exc),
    )
    context["error_summary"] = f"{_TITLES[op]}：{context['error_summary']}"
    return render(request, "tickets/detail.html", context, status=409 if isinstance(exc, Conflict) else 422)
