"""Staff pages for customers: list and search, the customer page, import and export."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core.errors import KefuError, NotFound, TooManyRequests
from kefu.core.pagination import Page
from kefu.core.web import AuthedRequest, audit_for_display, form_errors, staff_view
from kefu.customers import exporting, importing, selectors, services
from kefu.customers.access import access_customer, may_view_personal_data
from kefu.customers.enums import CustomerKind, ImportMode, Tier
from kefu.customers.models import Customer, ImportJob, Segment
from kefu.tickets import selectors as ticket_selectors
from kefu.tickets.access import is_read_only_role, sees_every_ticket
from kefu.tickets.enums import ACTIVE_CATEGORIES


@staff_view("customers.view_customer")
def customer_list(request: AuthedRequest) -> HttpResponse:
    filters = {
        "q": request.GET.get("q", "")[:100],
        "tier": request.GET.get("tier", ""),
        "kind": request.GET.get("kind", ""),
        "segment": request.GET.get("segment", ""),
    }

    def page_at(cursor: str | None) -> Page[Customer]:
        return selectors.customer_page(
            request.user,
            q=filters["q"],
            tier=filters["tier"],
            kind=filters["kind"],
            segment=filters["segment"],
            cursor=cursor,
        )

    limited = ""
    try:
        page = page_at(request.GET.get("cursor") or None)
    except TooManyRequests as exc:  # too many phone lookups: say so instead of a list
        limited, page = exc.message, Page(items=[], next_cursor=None)
    except KefuError:  # a mangled cursor in a pasted link: show the first page
        page = page_at(None)
    rows = [
        {
            "customer": c,
            "contact": selectors.contact_view(contacts[0], reveal=False)
            if (contacts := list(c.contacts.all()))
            else None,
        }
        for c in page.items
    ]
    context = {
        "rows": rows,
        "next_cursor": page.next_cursor,
        "filters": filters,
        "tiers": Tier.choices,
        "kinds": CustomerKind.choices,
        "segments": Segment.objects.all(),
        "limited": limited,
    }
    partial = bool(request.htmx and request.htmx.target == "customer-rows")
    template = "customers/_list_rows.html" if partial else "customers/list.html"
    # htmx swaps only 2xx answers: the partial says "too many" in a 200, the full page in a 429.
    return render(request, template, context, status=429 if limited and not partial else 200)


@staff_view("customers.view_customer")
def customer_detail(request: AuthedRequest, public_id: str) -> HttpResponse:
    customer = selectors.customer_detail(request.user, public_id)
    reveal = may_view_personal_data(request.user)
    contacts = list(customer.contacts.all())
    if reveal:
        services.record_pii_view(actor=request.user, customer=customer, contacts=contacts, where="web")
    history = Paginator(selectors.customer_history(customer), 25).get_page(request.GET.get("page"))
    history.object_list = audit_for_display(history.object_list, reveal=reveal)
    tickets: dict[str, Any] | None = None
    if request.user.has_perm("tickets.view_ticket"):
        # Both reads go through the tickets' selectors, so the card shows only what the queue would.
        open_filter = ticket_selectors.TicketFilters(
            customer=customer.public_id, status_category=list(ACTIVE_CATEGORIES)
        )
        tickets = {
            "recent": list(ticket_selectors.customer_recent_tickets(request.user, customer.pk)),
            "open_count": ticket_selectors.ticket_list(request.user, filters=open_filter).count(),
            "queue_query": urlencode({"queue": "all", "customer": customer.public_id}),
            "may_create": request.user.has_perm("tickets.add_ticket") and not is_read_only_role(request.user),
            # Without the wide scope an empty card says "none you may see", not "none".
            "sees_all": sees_every_ticket(request.user),
        }
    return render(
        request,
        "customers/detail.html",
        {
            "customer": customer,
            "contacts": [selectors.contact_view(c, reveal=reveal) for c in contacts],
            "address": selectors.customer_address(customer, reveal=reveal),
            "revealed": reveal,
            "history": history,
            "notes": customer.notes.all(),
            "tickets": tickets,
        },
    )


@require_POST
@staff_view("customers.add_customernote")
def customer_add_note(request: AuthedRequest, public_id: str) -> HttpResponse:
    customer = access_customer(request.user, public_id)
    try:
        services.customer_note_add(actor=request.user, customer=customer, body=request.POST.get("body", ""))
    except KefuError as exc:
        return render(request, "400.html", {"message": exc.message}, status=422)
    return redirect("customer-detail", public_id=public_id)


@require_POST
@staff_view("customers.change_customer")
def customer_mark_contacted(request: AuthedRequest, public_id: str) -> HttpResponse:
    customer = access_customer(request.user, public_id)
    services.customer_mark_contacted(actor=request.user, customer=customer)
    return redirect("customer-detail", public_id=public_id)


@staff_view("customers.import_customers")
def customer_import(request: AuthedRequest) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    mode = request.POST.get("mode", ImportMode.ALL_OR_NOTHING)
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            job = importing.import_job_create(actor=request.user, upload=upload, mode=mode)
        except KefuError as exc:
            errors = form_errors(exc)
        else:
            return redirect("customer-import-job", job_id=job.public_id)
    jobs = ImportJob.objects.filter(created_by=request.user)[:10]
    return render(
        request,
        "customers/import.html",
        {
            "error_summary": errors["__all__"][0] if errors.get("__all__") else "",
            "field_errors": {name: messages for name, messages in errors.items() if name != "__all__"},
            "modes": ImportMode.choices,
            "selected_mode": mode if errors and mode in ImportMode.values else ImportMode.ALL_OR_NOTHING,
            "jobs": jobs,
            "max_mb": settings.KEFU_IMPORT_MAX_BYTES // (1024 * 1024),
            "columns": importing.COLUMNS,
        },
        status=422 if errors else 200,
    )


@staff_view("customers.import_customers")
def customer_import_job(request: AuthedRequest, job_id: str) -> HttpResponse:
    job = ImportJob.objects.filter(public_id=job_id, created_by=request.user).first()
    if job is None:
        raise NotFound(_("导入任务不存在"))
    template = "customers/_import_job.html" if request.htmx else "customers/import_job.html"
    return render(request, template, {"job": job})


@staff_view("customers.export_customers")
def customer_export(request: AuthedRequest) -> HttpResponseBase:
    try:
        queryset = selectors.customer_search(
            request.user,
            q=request.GET.get("q", "")[:100],
            tier=request.GET.get("tier", ""),
            kind=request.GET.get("kind", ""),
            segment=request.GET.get("segment", ""),
        )
    except TooManyRequests as exc:
        messages.error(request, exc.message)
        return redirect(f"{reverse('customer-list')}?{request.GET.urlencode()}")
    handle = tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False)  # noqa: SIM115 - FileResponse closes it
    handle.close()
    path = Path(handle.name)
    exporting.export_customers(path, actor=request.user, queryset=queryset)
    response = FileResponse(path.open("rb"), as_attachment=True, filename="customers.xlsx")
    path.unlink()
    return response
