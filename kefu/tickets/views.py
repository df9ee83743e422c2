"""The agent console: queues, the ticket page and its actions, the new-ticket form and the call log.
Views parse input, call selectors and services, and render; every rule lives in the services."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.http import FileResponse, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from kefu.accounts.http import AuthedRequest
from kefu.accounts.models import Team
from kefu.core.errors import Conflict, KefuError, NotFound, TooManyRequests, ValidationFailed
from kefu.core.web import form_errors, staff_view
from kefu.customers import reveal as customer_reveal
from kefu.customers import selectors as customer_selectors
from kefu.customers.access import access_customer, may_view_personal_data, visible_customers
from kefu.customers.enums import CustomerKind
from kefu.customers.models import Customer
from kefu.tickets import calls, console, drafts, forms, reveal, selectors, ticket_page, waybills
from kefu.tickets.access import access_ticket, is_read_only_role, require_agent_write
from kefu.tickets.enums import (
    CallOutcome,
    Channel,
    CloseReason,
    Priority,
    StatusCategory,
    TicketType,
    Visibility,
)
from kefu.tickets.models import Ticket
from kefu.tickets.services.create import TicketData
from kefu.tickets.services.edit import ticket_assign, ticket_update
from kefu.tickets.services.lifecycle import ticket_close, ticket_resolve, ticket_transition
from kefu.tickets.services.merge_split_link import (
    ticket_link,
    ticket_merge,
    ticket_merge_check,
    ticket_split,
    ticket_unlink,
)
from kefu.tickets.services.reopening import ticket_reopen
from kefu.tickets.services.work_orders import subtask_create, subtask_set_status


def _status_of(exc: KefuError) -> int:
    return 409 if isinstance(exc, Conflict) else 422


# --- queue ----------------------------------------------------------------------------------------


@staff_view("tickets.view_ticket")
def queue(request: AuthedRequest) -> HttpResponse:
    user = request.user
    queue_key = request.GET.get("queue", "all")
    if queue_key not in selectors.QUEUES:
        queue_key = "all"
    filters = forms.parse_filters(request.GET)
    sort = forms.parse_sort(request.GET.get("sort", ""))
    tickets = selectors.ticket_list(user, queue=queue_key, filters=filters).prefetch_related("tags")
    try:
        rows, next_cursor = forms.page_of(tickets, request.GET.get("cursor", ""), sort)
    except KefuError:  # a mangled cursor in a pasted link (or one of another order): the first page
        rows, next_cursor = forms.page_of(tickets, "", sort)
    params = forms.filter_params(request.GET)
    unsorted = urlencode({"queue": queue_key, **params}, doseq=True)
    query = unsorted if sort == forms.DEFAULT_SORT else f"{unsorted}&sort={sort}"
    context: dict[str, Any] = {
        "rows": rows,
        "next_cursor": next_cursor,
        "query": query,
        "queue": queue_key,
        "params": params,
        "filters": filters,
        "sort": sort,
        "sort_links": _sort_links(unsorted, sort),
        "read_only": is_read_only_role(user) or not user.has_perm("tickets.change_ticket"),
    }
    if request.htmx and request.htmx.target == "ticket-rows":
        return render(request, "tickets/_queue_rows.html", context)
    context.update(
        {
            # Counts arrive by htmx (queue_counts below): the list does not wait for them.
            "queues": [(key, label, None) for key, label in selectors.QUEUES.items()],
            "saved_views": [
                (v, urlencode({"queue": queue_key, **v.filters}, doseq=True))
                for v in console.saved_views_for(user)
            ],
            "assignees": console.assignable_users(),
            "statuses": console.statuses(),
            "categories": console.categories(),
            "status_categories": StatusCategory.choices,
            "status_groups": [(key, label) for key, (label, _c) in forms.STATUS_GROUPS.items()],
            "status_group": forms.status_group(request.GET),
            "teams": console.teams(),
            "types": TicketType.choices,
            "priorities": Priority.choices,
            "channels": Channel.choices,
            "tags_value": ",".join(filters.tags),
        }
    )
    if filters.customer:  # from the customer page's "all tickets" link: name it, and offer to drop it
        context["filter_customer"] = visible_customers(user).filter(public_id=filters.customer).first()
        context["without_customer"] = urlencode(
            {"queue": queue_key, **{k: v for k, v in params.items() if k != "customer"}}, doseq=True
        )
    return render(request, "tickets/queue.html", context)


# Each sortable column: the order its first click gives, and the order a second click gives.
_SORT_COLUMNS = {
    "number": ("-created", "created"),
    "age": ("created", "-created"),  # first click: the oldest (longest waiting) first
    "updated": ("-updated", "updated"),
}


def _sort_links(unsorted: str, sort: str) -> dict[str, dict[str, str]]:
    """For each sortable column header: its link and, when the list is in its order, the arrow."""
    links = {}
    for column, (first, second) in _SORT_COLUMNS.items():
        target = second if sort == first else first
        arrow = ""
        if sort in (first, second):
            arrow = "▼" if sort.startswith("-") == (column != "age") else "▲"
        links[column] = {"href": f"?{unsorted}&sort={target}", "arrow": arrow}
    return links


@staff_view("tickets.view_ticket")
def queue_counts(request: AuthedRequest) -> HttpResponse:
    """The queue list with its active-ticket counts: loaded by the queue page after the tickets, and
    refreshed every minute."""
    counts = selectors.queue_counts(request.user)
    return render(
        request,
        "tickets/_queue_nav.html",
        {
            "queues": [(key, label, counts.get(key)) for key, label in selectors.QUEUES.items()],
            "queue": request.GET.get("queue", "all"),
            "counted": True,
        },
    )


@require_POST
@staff_view("tickets.view_ticket")
def saved_view_create(request: AuthedRequest) -> HttpResponse:
    params = QueryDict(request.POST.get("query", ""))
    try:
        console.saved_view_create(
            actor=request.user,
            name=request.POST.get("name", ""),
            filters={
                **forms.filter_params(params),
                **({"queue": [params["queue"]]} if params.get("queue") else {}),
            },
            shared=request.POST.get("shared") == "1",
        )
    except KefuError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("视图已保存"))
    return redirect(f"{reverse('ticket-queue')}?{params.urlencode()}")


@require_POST
@staff_view("tickets.view_ticket")
def saved_view_delete(request: AuthedRequest, view_id: int) -> HttpResponse:
    console.saved_view_delete(actor=request.user, view_id=view_id)
    messages.success(request, _("视图已删除"))
    return redirect("ticket-queue")


# The bulk bar's input that carries the value of each action: one list per action (the page shows the
# one the chosen action reads), so a page without script still sends the right value.
_BULK_VALUE_FIELD = {
    "assign": "assignee",
    "status": "status",
    "priority": "priority",
    "tag": "tag",
    "merge": "into",
}


@require_POST
@staff_view("tickets.view_ticket")
def bulk(request: AuthedRequest) -> HttpResponse:
    back = request.POST.get("query", "")
    try:
        results = console.bulk_apply(
            actor=request.user,
            numbers=request.POST.getlist("tickets"),
            action=request.POST.get("action", ""),
            value=request.POST.get(_BULK_VALUE_FIELD.get(request.POST.get("action", ""), "value"), ""),
        )
    except ValidationFailed as exc:
        messages.error(request, exc.message)
    else:
        done = [r for r in results if r.ok]
        if done:
            messages.success(request, _("已处理 %(count)s 张工单") % {"count": len(done)})
        for failed in (r for r in results if not r.ok):
            messages.error(request, f"{failed.number}：{failed.message}")
        if not results:
            messages.error(request, _("请先勾选工单"))
    return redirect(f"{reverse('ticket-queue')}?{back}")


# --- ticket page ----------------------------------------------------------------------------------


@staff_view("tickets.view_ticket")
def ticket_detail(request: AuthedRequest, number: str) -> HttpResponse:
    ticket = selectors.ticket_detail(request.user, number)
    return render(request, "tickets/detail.html", ticket_page.detail_context(request, ticket))


@staff_view("tickets.view_ticket")
def ticket_reveal_phone(request: AuthedRequest, number: str) -> HttpResponse:
    """Reveal the contact's whole phone number with a reason (kefu.tickets.reveal): htmx swaps the
    number in place; without JavaScript the ticket page comes back with it."""
    ticket = selectors.ticket_detail(request.user, number)
    if request.method != "POST":
        return redirect("ticket-detail", number=ticket.number)
    reason = request.POST.get("reason", "")
    shown: dict[str, Any]
    status = 200
    try:
        revealed = reveal.contact_phone_reveal(actor=request.user, ticket=ticket, reason=reason)
    except (ValidationFailed, TooManyRequests) as exc:
        shown = {"reveal_error": customer_reveal.refusal_message(exc), "reveal_reason": reason}
        status = exc.status
    else:
        shown = {"revealed_phone": revealed.phone}
    context = ticket_page.detail_context(request, ticket, **shown)
    if request.htmx:  # htmx swaps only 2xx answers: the fragment carries the error itself
        return render(request, "tickets/_contact_phone.html", context)
    return render(request, "tickets/detail.html", context, status=status)


@staff_view("tickets.view_ticket")
def ticket_attachment(request: AuthedRequest, number: str, public_id: str) -> FileResponse:
    attachment = console.attachment_of(access_ticket(request.user, number), public_id, public_only=False)
    return attachment_response(attachment)


def attachment_response(attachment: Any) -> FileResponse:
    """The file, inline for images and PDFs, as a download otherwise; never sniffed as HTML."""
    inline = attachment.is_image or attachment.content_type == "application/pdf"
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=not inline,
        filename=attachment.name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@staff_view("tickets.view_ticket")
def ticket_presence(request: AuthedRequest, number: str) -> HttpResponse:
    """GET (the page's poll): "I still have it open", answered with who else has. POST (sent by
    console.js as the page unloads): "I left"."""
    ticket = access_ticket(request.user, number)
    if request.method == "POST":
        console.presence_leave(ticket, request.user)
        return HttpResponse(status=204)
    return render(request, "tickets/_presence.html", {"others": console.presence_touch(ticket, request.user)})


def _reply(request: AuthedRequest, ticket: Ticket) -> None:
    drafts.reply_send(
        actor=request.user,
        ticket=ticket,
        body=request.POST.get("body", ""),
        visibility=request.POST.get("visibility", Visibility.PUBLIC),
        uploads=request.FILES.getlist("attachments"),
        keep=[n for n in (forms.parse_int(v) for v in request.POST.getlist("keep_attachment")) if n],
        seen_version=forms.parse_int(request.POST.get("seen_version")),
    )


@require_POST
@staff_view("tickets.view_ticket")
def reply_draft(request: AuthedRequest, number: str) -> HttpResponse:
    """The reply box saves here as the agent types (htmx, debounced): 204, nothing to swap."""
    ticket = access_ticket(request.user, number)
    require_agent_write(request.user)
    drafts.reply_draft_save(
        actor=request.user,
        ticket=ticket,
        body=request.POST.get("body", ""),
        visibility=request.POST.get("visibility", Visibility.PUBLIC),
    )
    return HttpResponse(status=204)


def _assign(request: AuthedRequest, ticket: Ticket) -> None:
    value = request.POST.get("assignee", "")
    assignee = None
    if value == "me":
        assignee = request.user
    elif value:
        user_id = forms.parse_int(value)
        if user_id is None:
            raise ValidationFailed.for_field("assignee", _("请选择处理人"))
        assignee = console.assignee_by_id(user_id)
    ticket_assign(
        actor=request.user,
        ticket=ticket,
        assignee=assignee,
        version=forms.parse_int(request.POST.get("version")),
    )


def _status(request: AuthedRequest, ticket: Ticket) -> None:
    status = console.statuses().filter(code=request.POST.get("status", "")).first()
    if status is None:
        raise ValidationFailed.for_field("status", _("请选择状态"))
    ticket_transition(
        actor=request.user, ticket=ticket, status=status, version=forms.parse_int(request.POST.get("version"))
    )


def _resolve(request: AuthedRequest, ticket: Ticket) -> None:
    ticket_resolve(
        actor=request.user,
        ticket=ticket,
        solution_summary=request.POST.get("solution_summary", ""),
        version=forms.parse_int(request.POST.get("version")),
    )


def _close(request: AuthedRequest, ticket: Ticket) -> None:
    ticket_close(
        actor=request.user,
        ticket=ticket,
        satisfaction_confirmed=request.POST.get("satisfied") == "1",
        reason=request.POST.get("reason", CloseReason.CONFIRMED),
        note=request.POST.get("note", ""),
        version=forms.parse_int(request.POST.get("version")),
    )


def _reopen(request: AuthedRequest, ticket: Ticket) -> Ticket:
    return ticket_reopen(actor=request.user, ticket=ticket, reason=request.POST.get("reason", ""))


def _edit(request: AuthedRequest, ticket: Ticket) -> None:
    post = request.POST
    category = console.category_by_code(post.get("category", ""))
    changes: dict[str, Any] = {
        "subject": post.get("subject", ticket.subject),
        "description": post.get("description", ticket.description),
        "type": post.get("type", ticket.type),
        "priority": post.get("priority", ticket.priority),
        "category": category,
        "custom_fields": forms.parse_custom_fields(post, console.category_fields(category)),
    }
    ticket_update(
        actor=request.user,
        ticket=ticket,
        version=forms.parse_int(post.get("version")),
        changes=changes,
        waybills=waybills.split(post.get("waybills", "")),
    )


def _tags(request: AuthedRequest, ticket: Ticket) -> None:
    ticket_update(
        actor=request.user,
        ticket=ticket,
        version=None,
        changes={},
        add_tags=[t for t in request.POST.get("add", "").replace("，", ",").split(",") if t.strip()],
        remove_tags=request.POST.getlist("remove"),
    )


def _subtask(request: AuthedRequest, ticket: Ticket) -> None:
    post = request.POST
    assignee = console.assignable_users().filter(pk=forms.parse_int(post.get("assignee")) or 0).first()
    subtask_create(
        actor=request.user,
        ticket=ticket,
        department=post.get("department", ""),
        title=post.get("title", ""),
        deadline=forms.parse_local_datetime(post.get("deadline", "")),  # type: ignore[arg-type]
        problem_description=post.get("problem_description", ""),
        support_needed=post.get("support_needed", ""),
        current_progress=post.get("current_progress", ""),
        assignee=assignee,
        external_party=post.get("external_party", ""),
        mandatory=post.get("mandatory") == "1",
        carrier_contact=post.get("carrier_contact", ""),
        tracking_evidence=post.get("tracking_evidence", ""),
    )


def _subtask_status(request: AuthedRequest, ticket: Ticket) -> None:
    subtask = ticket.subtasks.filter(pk=forms.parse_int(request.POST.get("subtask")) or 0).first()
    if subtask is None:
        raise NotFound(_("协作单不存在"))
    subtask_set_status(actor=request.user, subtask=subtask, status=request.POST.get("status", ""))


def _watch(request: AuthedRequest, ticket: Ticket) -> None:
    console.ticket_watch(actor=request.user, ticket=ticket, watching=request.POST.get("watching") == "1")


@dataclass(frozen=True)
class ShowPage:
    """What a handler returns to show the ticket page again (200) with ``context`` added, having
    changed nothing: the confirmation step of a merge."""

    context: dict[str, Any] = field(default_factory=dict)


def _merge(request: AuthedRequest, ticket: Ticket) -> Ticket | ShowPage:
    """Merge this duplicate into the ticket named in ``into``: first a confirmation naming both tickets,
    then (with ``confirm=1``) the merge; the survivor is returned, so the agent lands on it."""
    target = console.other_ticket(request.user, request.POST.get("into", ""), field="into")
    if request.POST.get("confirm") == "1":
        return ticket_merge(actor=request.user, source=ticket, target=target)
    # The merge's own check: the confirmation shows exactly the refusal the merge would give.
    ticket_merge_check(source=ticket, target=target)
    return ShowPage({"merge_target": selectors.ticket_detail(request.user, target.number)})


def _split(request: AuthedRequest, ticket: Ticket) -> Ticket:
    message = ticket.messages.filter(pk=forms.parse_int(request.POST.get("message")) or 0).first()
    if message is None:
        raise ValidationFailed.for_field("message", _("该工单没有这条消息"))
    post = request.POST
    if "category" not in post:  # no choice offered: the new ticket keeps the original's category
        return ticket_split(actor=request.user, message=message, subject=post.get("subject", ""))
    category = console.category_by_code(post["category"])
    return ticket_split(
        actor=request.user,
        message=message,
        subject=post.get("subject", ""),
        category=category,
        custom_fields=forms.parse_custom_fields(post, console.category_fields(category)),
    )


def _link_kind(request: AuthedRequest) -> str:
    kind = request.POST.get("kind", "")
    if kind not in console.MANUAL_LINK_KINDS:
        raise ValidationFailed.for_field("kind", _("请选择关联类型"))
    return kind


def _link(request: AuthedRequest, ticket: Ticket) -> None:
    kind = _link_kind(request)
    other = console.other_ticket(request.user, request.POST.get("other", ""), field="other")
    ticket_link(actor=request.user, ticket=ticket, other=other, kind=kind)


def _unlink(request: AuthedRequest, ticket: Ticket) -> None:
    kind = _link_kind(request)
    other = console.other_ticket(request.user, request.POST.get("other", ""), field="other")
    try:
        ticket_unlink(actor=request.user, ticket=ticket, other=other, kind=kind)
    except NotFound as exc:  # someone else removed it a moment ago: say so on the page, not with a 404
        raise ValidationFailed.for_field("other", exc.message) from None


ACTIONS: dict[str, Callable[[AuthedRequest, Ticket], Ticket | ShowPage | None]] = {
    "reply": _reply,
    "assign": _assign,
    "status": _status,
    "resolve": _resolve,
    "close": _close,
    "reopen": _reopen,
    "edit": _edit,
    "tags": _tags,
    "watch": _watch,
    "subtask": _subtask,
    "subtask_status": _subtask_status,
    "merge": _merge,
    "split": _split,
    "link": _link,
    "unlink": _unlink,
}
DONE = {
    "reply": gettext_lazy("已发送"),
    "assign": gettext_lazy("已分配"),
    "status": gettext_lazy("状态已更新"),
    "resolve": gettext_lazy("工单已解决"),
    "close": gettext_lazy("工单已关闭"),
    "reopen": gettext_lazy("工单已重新打开"),
    "edit": gettext_lazy("已保存"),
    "tags": gettext_lazy("标签已更新"),
    "watch": gettext_lazy("关注已更新"),
    "subtask": gettext_lazy("协作单已创建"),
    "subtask_status": gettext_lazy("协作单状态已更新"),
    # Shown on the ticket the action returns: %(source)s is the ticket acted on, %(number)s the result.
    "merge": gettext_lazy("工单 %(source)s 已合并到本工单"),
    "split": gettext_lazy("已从工单 %(source)s 拆分出本工单"),
    "link": gettext_lazy("已关联"),
    "unlink": gettext_lazy("已取消关联"),
}


@require_http_methods(["GET", "POST"])
@staff_view("tickets.view_ticket")
def ticket_action(request: AuthedRequest, number: str, action: str) -> HttpResponse:
    """POST: do ``action``, then redirect to the ticket (post/redirect/get). A refused action shows the
    ticket page with the errors at this address; GET answers the same page with that form open, so
    the address the browser shows after an error loads (reload, a pasted link, back)."""
    handler = ACTIONS.get(action)
    if handler is None:
        raise NotFound(_("页面不存在"))
    ticket = access_ticket(request.user, number)
    if request.method == "GET":
        fresh = selectors.ticket_detail(request.user, number)
        return render(
            request, "tickets/detail.html", ticket_page.detail_context(request, fresh, action=action)
        )
    require_agent_write(request.user)
    try:
        result = handler(request, ticket)
    except KefuError as exc:
        if not isinstance(exc, ValidationFailed | Conflict):
            raise
        return _refused(request, ticket, action, exc)
    if isinstance(result, ShowPage):
        fresh = selectors.ticket_detail(request.user, number)
        context = ticket_page.detail_context(
            request, fresh, action=action, posted=request.POST, **result.context
        )
        return render(request, "tickets/detail.html", context)
    done = str(DONE[action])
    if isinstance(result, Ticket) and "%(" in done:
        done = done % {"source": ticket.number, "number": result.number}
    messages.success(request, done)
    # A reopen past the window opens a follow-up ticket: go there.
    return redirect("ticket-detail", number=result.number if isinstance(result, Ticket) else number)


def _refused(request: AuthedRequest, ticket: Ticket, action: str, exc: KefuError) -> HttpResponse:
    """The ticket page again with the refusal, the form as it was posted and — for a reply — the draft:
    held back by a conflict, its files are kept with the draft; refused for its content, the page says
    the files were not kept (they may be what was refused)."""
    uploads = request.FILES.getlist("attachments") if action == "reply" else []
    files_dropped = False
    if uploads and isinstance(exc, Conflict):
        drafts.reply_draft_keep_files(
            actor=request.user,
            ticket=ticket,
            body=request.POST.get("body", ""),
            visibility=request.POST.get("visibility", Visibility.PUBLIC),
            files=uploads,
        )
    elif uploads:
        files_dropped = True
    fresh = selectors.ticket_detail(request.user, ticket.number)
    context = ticket_page.detail_context(
        request,
        fresh,
        action=action,
        conflict=isinstance(exc, Conflict),
        files_dropped=files_dropped,
        posted=request.POST,
        **form_errors(exc),
    )
    if action == "reply":
        context["draft"] = request.POST.get("body", "")
        context["draft_visibility"] = request.POST.get("visibility", Visibility.PUBLIC)
    if action == "edit":
        context["edit_values"] = request.POST
        context["category_fields"] = console.category_fields(
            console.category_by_code(request.POST.get("category", ""))
        )
    if action == "split":
        context["split_message"] = forms.parse_int(request.POST.get("message"))
        context["split_fields"] = console.category_fields(
            console.category_by_code(request.POST.get("category", ""))
        )
    return render(request, "tickets/detail.html", context, status=_status_of(exc))


# --- new ticket -----------------------------------------------------------------------------------


def ticket_data_from(
    request: AuthedRequest, *, channel: str, customer: Customer | None, team: Team | None = None
) -> TicketData:
    """A new ticket as the console's forms give it — the new-ticket page and the call log's "log and
    open a ticket": ``customer`` is the one the form named (found by the caller); the team is the
    form's choice among the user's own teams, else ``team``."""
    post = request.POST
    category = console.category_by_code(post.get("category", ""))
    chosen = forms.parse_int(post.get("team"))
    if chosen:
        team = console.teams_of(request.user).filter(pk=chosen).first()
    return TicketData(
        team=team,
        subject=post.get("subject", ""),
        description=post.get("description", ""),
        channel=channel,
        type=post.get("type", TicketType.INQUIRY),
        priority=post.get("priority", Priority.NORMAL),
        category=category,
        customer=customer,
        assignee=request.user if post.get("assign_to_me") == "1" else None,
        custom_fields=forms.parse_custom_fields(post, console.category_fields(category)),
        waybills=waybills.split(post.get("waybills", "")),
        tags=[t for t in post.get("tags", "").replace("，", ",").split(",") if t.strip()],
    )


@staff_view("tickets.add_ticket")
def ticket_new(request: AuthedRequest) -> HttpResponse:
    error: KefuError | None = None
    post = request.POST
    if request.method == "POST":
        require_agent_write(request.user)
        channel = post.get("channel", Channel.PHONE)
        try:
            customer = access_customer(request.user, post["customer"]) if post.get("customer") else None
            ticket = console.ticket_create_with_attachments(
                actor=request.user,
                data=ticket_data_from(request, channel=channel, customer=customer),
                attachments=request.FILES.getlist("attachments"),
            )
        except (ValidationFailed, NotFound) as exc:
            error = exc
        else:
            messages.success(request, _("工单 %(number)s 已创建") % {"number": ticket.number})
            return redirect("ticket-detail", number=ticket.number)
    category = console.category_by_code(post.get("category", request.GET.get("category", "")))
    customer = None
    ref = post.get("customer") or request.GET.get("customer", "")
    if ref:
        try:
            customer = access_customer(request.user, ref)
        except NotFound:
            customer = None
    context = {
        "categories": console.categories(),
        "category": category,
        "fields": console.category_fields(category),
        "values": post,
        "types": TicketType.choices,
        "priorities": Priority.choices,
        "channels": Channel.choices,
        "customer": customer,
        "teams": console.teams_of(request.user),
        **form_errors(error),
    }
    return render(request, "tickets/new.html", context, status=422 if error else 200)


@staff_view("tickets.view_ticket")
def category_fields(request: AuthedRequest) -> HttpResponse:
    category = console.category_by_code(request.GET.get("category", ""))
    return render(
        request,
        "tickets/_custom_fields.html",
        {"fields": console.category_fields(category), "values": {}, "field_errors": {}},
    )


@staff_view("tickets.view_ticket")
def customer_lookup(request: AuthedRequest) -> HttpResponse:
    q = (request.GET.get("customer_q") or request.GET.get("caller_number") or "").strip()[:60]
    limited = ""
    try:
        found = list(customer_selectors.customer_search(request.user, q=q)[:10]) if len(q) >= 2 else []
    except TooManyRequests as exc:  # an htmx fragment: said in a 200, which htmx swaps in
        found, limited = [], exc.message
    return render(request, "tickets/_customer_options.html", {"customers": found, "q": q, "limited": limited})


# --- call log -------------------------------------------------------------------------------------


def _new_caller(post: QueryDict) -> calls.NewCaller | None:
    """The new-customer part of the call form, when anything was typed into it."""
    name, contact_name = post.get("new_customer_name", "").strip(), post.get("new_contact_name", "").strip()
    if not name and not contact_name:
        return None
    return calls.NewCaller(
        name=name, kind=post.get("new_customer_kind", CustomerKind.CONSUMER), contact_name=contact_name
    )


@staff_view("tickets.view_calllog")
def call_log(request: AuthedRequest) -> HttpResponse:
    error: KefuError | None = None
    post = request.POST
    if request.method == "POST":
        try:
            mode = forms.call_ticket_mode(post)
            customer = access_customer(request.user, post["customer"]) if post.get("customer") else None
            ticket_data = None
            existing = None
            if mode == forms.CALL_NEW_TICKET:
                ticket_data = ticket_data_from(
                    request,
                    channel=Channel.PHONE,
                    customer=customer,
                    team=console.teams_of(request.user).first(),
                )
            elif mode == forms.CALL_EXISTING_TICKET:
                existing = console.other_ticket(
                    request.user, post.get("existing_ticket", ""), field="existing_ticket"
                )
            call = calls.call_log_create(
                actor=request.user,
                caller_number=post.get("caller_number", ""),
                summary=post.get("summary", ""),
                outcome=post.get("outcome", ""),
                customer=customer,
                new_caller=_new_caller(post),
                callback_due_at=forms.parse_local_datetime(post.get("callback_due_at", "")),
                ticket=ticket_data,
                existing_ticket=existing,
            )
        except (ValidationFailed, NotFound) as exc:
            error = exc
        else:
            # The number the agent typed, shown back to them (they know it; it is not a reveal).
            number = customer_selectors.phone_shown(call.caller_number, reveal=True)
            if call.ticket is not None and mode == forms.CALL_NEW_TICKET:
                messages.success(
                    request,
                    _("通话（%(phone)s）已记录，工单 %(number)s 已创建")
                    % {"phone": number, "number": call.ticket.number},
                )
                return redirect("ticket-detail", number=call.ticket.number)
            if call.ticket is not None:
                messages.success(
                    request,
                    _("通话（%(phone)s）已记录到工单 %(number)s")
                    % {"phone": number, "number": call.ticket.number},
                )
                return redirect("ticket-detail", number=call.ticket.number)
            messages.success(request, _("通话（%(phone)s）已记录") % {"phone": number})
            return redirect(f"{reverse('ticket-calls')}?logged={call.pk}")
    category = console.category_by_code(post.get("category", ""))
    reveal = may_view_personal_data(request.user)
    logged = forms.parse_int(request.GET.get("logged"))
    context = {
        # The agent who logged a call sees the number they typed; others see it as the policy says.
        "calls": [
            (
                call,
                customer_selectors.phone_shown(
                    call.caller_number, reveal=reveal or call.agent_id == request.user.pk
                ),
                call.pk == logged,
            )
            for call in calls.recent_calls(request.user)
        ],
        "outcomes": CallOutcome.choices,
        "categories": console.categories(),
        "fields": console.category_fields(category),
        "types": TicketType.choices,
        "priorities": Priority.choices,
        "customer_kinds": CustomerKind.choices,
        "ticket_modes": [
            (forms.CALL_LOG_ONLY, _("只记录通话")),
            (forms.CALL_NEW_TICKET, _("记录并新建工单")),
            (forms.CALL_EXISTING_TICKET, _("记录到已有工单")),
        ],
        "ticket_mode": post.get("ticket_mode", forms.CALL_LOG_ONLY),
        "may_add_customer": request.user.has_perm("customers.add_customer"),
        "values": post,
        "can_log": request.user.has_perm("tickets.add_calllog"),
        **form_errors(error),
    }
    return render(request, "tickets/calls.html", context, status=422 if error else 200)
