"""Staff pages for customers: list and search, the customer page, creating and editing customers and
contacts, import and export."""

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
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.accounts.http import AuthedRequest
from kefu.core.errors import Conflict, KefuError, NotFound, TooManyRequests, ValidationFailed
from kefu.core.pagination import Page
from kefu.core.phones import display_phone
from kefu.core.web import audit_for_display, form_errors, staff_view
from kefu.customers import cards as customer_cards
from kefu.customers import exporting, import_jobs, importing, selectors, services
from kefu.customers import reveal as phone_reveal
from kefu.customers.access import access_customer, may_view_personal_data
from kefu.customers.enums import ContactChannel, CustomerKind, ImportMode, Tier
from kefu.customers.models import Contact, Customer, ImportJob, Segment


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
    return render(request, "customers/detail.html", _detail_context(request, customer))


def _detail_context(request: AuthedRequest, customer: Customer, **extra: Any) -> dict[str, Any]:
    reveal = may_view_personal_data(request.user)
    contacts = list(customer.contacts.all())
    if reveal:
        services.record_pii_view(actor=request.user, customer=customer, contacts=contacts, where="web")
    history = Paginator(selectors.customer_history(customer), 25).get_page(request.GET.get("page"))
    history.object_list = audit_for_display(history.object_list, reveal=reveal)
    cards, card_context = customer_cards.cards_for(request.user, customer)
    return {
        "customer": customer,
        "contacts": [selectors.contact_view(c, reveal=reveal) for c in contacts],
        "address": selectors.customer_address(customer, reveal=reveal),
        "revealed": reveal,
        # Masked phones the viewer may reveal with a reason (customers/_contact_phone.html).
        "can_reveal": not reveal and phone_reveal.may_reveal(request.user),
        "history": history,
        "notes": customer.notes.all(),
        "cards": cards,
        **card_context,
        **extra,
    }


@staff_view("customers.view_customer")
def contact_reveal_phone(request: AuthedRequest, public_id: str, contact_id: str) -> HttpResponse:
    """Reveal one contact's whole phone number with a reason (kefu.customers.reveal): htmx swaps the
    number in place; without JavaScript the customer page comes back with it."""
    customer = selectors.customer_detail(request.user, public_id)
    contact = _contact_of(customer, contact_id)
    if request.method != "POST":
        return redirect("customer-detail", public_id=customer.public_id)
    reason = request.POST.get("reason", "")
    shown: dict[str, Any] = {"reveal_for": contact.public_id}
    status = 200
    try:
        revealed = phone_reveal.contact_phone_reveal(actor=request.user, contact=contact, reason=reason)
    except (ValidationFailed, TooManyRequests) as exc:
        shown |= {"reveal_error": phone_reveal.refusal_message(exc), "reveal_reason": reason}
        status = exc.status
    else:
        shown["revealed_phone"] = revealed.phone
    if request.htmx:  # htmx swaps only 2xx answers: the fragment carries the error itself
        return render(
            request,
            "customers/_contact_phone.html",
            {
                "customer": customer,
                "c": selectors.contact_view(contact, reveal=False),
                "can_reveal": phone_reveal.may_reveal(request.user),
                **shown,
            },
        )
    return render(
        request, "customers/detail.html", _detail_context(request, customer, **shown), status=status
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
    error: KefuError | None = None
    mode = request.POST.get("mode", ImportMode.ALL_OR_NOTHING)
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            job = import_jobs.import_job_create(actor=request.user, upload=upload, mode=mode)
        except KefuError as exc:
            error = exc
        else:
            return redirect("customer-import-job", job_id=job.public_id)
    jobs = ImportJob.objects.filter(created_by=request.user)[:10]
    return render(
        request,
        "customers/import.html",
        {
            **form_errors(error),
            "modes": ImportMode.choices,
            "selected_mode": mode if error and mode in ImportMode.values else ImportMode.ALL_OR_NOTHING,
            "jobs": jobs,
            "max_mb": settings.KEFU_IMPORT_MAX_BYTES // (1024 * 1024),
            "columns": importing.COLUMNS,
        },
        status=422 if error else 200,
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


# --- creating and editing customers and contacts ---------------------------------------------------

_CONTACT_INPUTS = ("name", "title", "phone", "email", "wechat_id")
# Contact values a viewer without personal-data access is never shown: their inputs start empty and
# an empty one keeps the stored value.
_PII_INPUTS = ("name", "phone", "email", "wechat_id")


def _customer_form_context(**extra: Any) -> dict[str, Any]:
    return {
        "tiers": Tier.choices,
        "kinds": CustomerKind.choices,
        "segments": Segment.objects.all(),
        "channels": ContactChannel.choices,
        **extra,
    }


def _contact_data(post: Any, *, prefix: str = "", current: Contact | None = None, reveal: bool = True) -> Any:
    values = {name: post.get(f"{prefix}{name}", "").strip() for name in _CONTACT_INPUTS}
    if current is not None and not reveal:
        for name in _PII_INPUTS:
            values[name] = values[name] or getattr(current, name)
    return services.ContactData(
        **values,
        preferred_channel=post.get(f"{prefix}preferred_channel", ContactChannel.PHONE),
        is_primary=post.get(f"{prefix}is_primary") == "1",
    )


@staff_view("customers.add_customer")
def customer_new(request: AuthedRequest) -> HttpResponse:
    post = request.POST
    error: KefuError | None = None
    if request.method == "POST":
        contact_typed = any(post.get(f"contacts.0.{name}", "").strip() for name in _CONTACT_INPUTS)
        try:
            customer = services.customer_create(
                actor=request.user,
                name=post.get("name", ""),
                kind=post.get("kind", CustomerKind.ORGANIZATION),
                tier=post.get("tier", Tier.STANDARD),
                segments=post.getlist("segments"),
                province=post.get("province", ""),
                city=post.get("city", ""),
                address=post.get("address", ""),
                contacts=[_contact_data(post, prefix="contacts.0.")] if contact_typed else [],
            )
        except ValidationFailed as exc:
            error = exc
        else:
            messages.success(request, _("客户 %(name)s 已创建") % {"name": customer.name})
            return redirect("customer-detail", public_id=customer.public_id)
    defaults = {"kind": CustomerKind.ORGANIZATION, "tier": Tier.STANDARD}
    context = _customer_form_context(
        values=post if request.method == "POST" else defaults,
        chosen_segments=post.getlist("segments"),
        **form_errors(error),
    )
    return render(request, "customers/customer_new.html", context, status=422 if error else 200)


_CUSTOMER_INPUTS = ("name", "kind", "tier", "province", "city", "address")


@staff_view("customers.change_customer")
def customer_edit(request: AuthedRequest, public_id: str) -> HttpResponse:
    customer = selectors.customer_detail(request.user, public_id)
    reveal = may_view_personal_data(request.user)
    post = request.POST
    error: KefuError | None = None
    current: Customer | None = None
    if request.method == "POST":
        changes = {name: post.get(name, "") for name in _CUSTOMER_INPUTS}
        if not reveal and not changes["address"].strip():
            del changes["address"]  # never shown to this viewer: empty keeps it
        try:
            services.customer_update(
                actor=request.user,
                customer=customer,
                version=_int(post.get("version")),
                segments=post.getlist("segments"),
                **changes,
            )
        except Conflict as exc:
            error = exc
            current = selectors.customer_detail(request.user, public_id)
        except ValidationFailed as exc:
            error = exc
        else:
            messages.success(request, _("客户资料已保存"))
            return redirect("customer-detail", public_id=public_id)
    if request.method == "POST":
        values: Any = post
        chosen = post.getlist("segments")
    else:
        values = {name: getattr(customer, name) for name in _CUSTOMER_INPUTS}
        values["address"] = customer.address if reveal else ""
        values["version"] = customer.version
        chosen = [s.code for s in customer.segments.all()]
    context = _customer_form_context(
        customer=customer,
        values=values,
        chosen_segments=chosen,
        masked_address="" if reveal else selectors.customer_address(customer, reveal=False),
        # After a conflict: what is stored now, next to what the user typed; saving again overwrites it.
        current=_customer_values(current, reveal=reveal) if current else None,
        version=current.version if current else values.get("version", customer.version),
        **form_errors(error),
    )
    status = 409 if isinstance(error, Conflict) else 422 if error else 200
    return render(request, "customers/customer_edit.html", context, status=status)


def _customer_values(customer: Customer, *, reveal: bool) -> list[tuple[str, str]]:
    """What is stored now, by label, for the conflict box."""
    return [
        (_("客户名称"), customer.name),
        (_("类型"), str(customer.get_kind_display())),
        (_("等级"), str(customer.get_tier_display())),
        (_("细分"), _("、").join(str(s) for s in customer.segments.all())),
        (_("省份"), customer.province),
        (_("城市"), customer.city),
        (_("地址"), selectors.customer_address(customer, reveal=reveal)),
    ]


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _contact_of(customer: Customer, contact_id: str) -> Contact:
    contact = customer.contacts.filter(public_id=contact_id).first()
    if contact is None:
        raise NotFound(_("联系人不存在"))
    return contact


@staff_view("customers.add_contact")
def contact_new(request: AuthedRequest, public_id: str) -> HttpResponse:
    customer = access_customer(request.user, public_id)
    post = request.POST
    error: KefuError | None = None
    if request.method == "POST":
        try:
            services.contact_create(actor=request.user, customer=customer, data=_contact_data(post))
        except ValidationFailed as exc:
            error = exc
        else:
            messages.success(request, _("联系人已添加"))
            return redirect("customer-detail", public_id=public_id)
    context = _customer_form_context(
        customer=customer, contact=None, values=post, masked={}, version="", **form_errors(error)
    )
    return render(request, "customers/contact_form.html", context, status=422 if error else 200)


@staff_view("customers.change_contact")
def contact_edit(request: AuthedRequest, public_id: str, contact_id: str) -> HttpResponse:
    customer = access_customer(request.user, public_id)
    contact = _contact_of(customer, contact_id)
    reveal = may_view_personal_data(request.user)
    post = request.POST
    error: KefuError | None = None
    version = contact.version
    if request.method == "POST":
        try:
            services.contact_update(
                actor=request.user,
                contact=contact,
                data=_contact_data(post, current=contact, reveal=reveal),
                version=_int(post.get("version")),
            )
        except Conflict as exc:
            error = exc
            contact.refresh_from_db()
            version = contact.version  # saving again, having seen the conflict, overwrites
        except ValidationFailed as exc:
            error = exc
            version = _int(post.get("version")) or version
        else:
            messages.success(request, _("联系人已保存"))
            return redirect("customer-detail", public_id=public_id)
    values: Any = post
    if request.method != "POST":
        values = {
            name: getattr(contact, name) if reveal or name not in _PII_INPUTS else ""
            for name in _CONTACT_INPUTS
        }
        values |= {
            "preferred_channel": contact.preferred_channel,
            "is_primary": "1" if contact.is_primary else "",
        }
        if reveal:
            values["phone"] = display_phone(contact.phone)
            services.record_pii_view(actor=request.user, customer=customer, contacts=[contact], where="web")
    shown = selectors.contact_view(contact, reveal=False)
    masked = {} if reveal else {name: getattr(shown, name) for name in _PII_INPUTS}
    context = _customer_form_context(
        customer=customer,
        contact=contact,
        values=values,
        masked=masked,
        version=version,
        current=selectors.contact_view(contact, reveal=reveal) if isinstance(error, Conflict) else None,
        **form_errors(error),
    )
    status = 409 if isinstance(error, Conflict) else 422 if error else 200
    return render(request, "customers/contact_form.html", context, status=status)
