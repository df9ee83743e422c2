"""Customers and contacts endpoints: parse, access, call a service or selector, serialize."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from pydantic import ConfigDict, StrictInt

from kefu.accounts.http import AuthedRequest
from kefu.accounts.models import User
from kefu.core.errors import NotFound, PermissionDenied, ValidationFailed
from kefu.core.pagination import DEFAULT_LIMIT
from kefu.customers import selectors, services
from kefu.customers.access import access_customer, may_view_personal_data, require_perm
from kefu.customers.enums import ContactChannel, CustomerKind, Tier
from kefu.customers.models import Contact, Customer

router = Router(tags=["customers"])

# Endpoints declaring a single status (``response={201: …}``) return the bare value; ninja answers with
# that status (returning a ``(status, value)`` tuple is deprecated).


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


# A version is a PositiveIntegerField: anything outside it cannot be one the caller read.
VERSION_MAX = 2**31 - 1


class ContactIn(Strict):
    name: str = Field(..., max_length=64)
    phone: str = Field("", max_length=32)
    email: str = Field("", max_length=254)
    wechat_id: str = Field("", max_length=64)
    title: str = Field("", max_length=64)
    preferred_channel: ContactChannel = ContactChannel.PHONE
    quiet_hours_start: dt.time | None = None
    quiet_hours_end: dt.time | None = None
    is_primary: bool = False

    def to_data(self) -> services.ContactData:
        return services.ContactData(**self.model_dump(exclude={"version"}))


class ContactReplace(ContactIn):
    # Strict: JSON true is not version 1.
    version: StrictInt = Field(
        ..., ge=1, le=VERSION_MAX, description="The version you read; a newer stored version gives 409"
    )


class CustomerIn(Strict):
    name: str = Field(..., max_length=128)
    kind: CustomerKind = CustomerKind.ORGANIZATION
    tier: Tier = Tier.STANDARD
    customer_no: str | None = Field(None, max_length=32)
    segments: list[str] = Field(default_factory=list, max_length=20)
    province: str = Field("", max_length=32)
    city: str = Field("", max_length=32)
    address: str = Field("", max_length=255)
    contacts: list[ContactIn] = Field(default_factory=list, max_length=50)


class CustomerPatch(Strict):
    version: int | None = Field(None, description="The version you read; a newer stored version gives 409")
    name: str | None = Field(None, max_length=128)
    kind: CustomerKind | None = None
    tier: Tier | None = None
    customer_no: str | None = Field(None, max_length=32)
    segments: list[str] | None = Field(None, max_length=20)
    province: str | None = Field(None, max_length=32)
    city: str | None = Field(None, max_length=32)
    address: str | None = Field(None, max_length=255)
    is_active: bool | None = None


class ContactOut(Schema):
    id: str
    name: str
    title: str
    phone: str
    email: str
    wechat_id: str
    preferred_channel: str
    quiet_hours: str
    is_primary: bool
    masked: bool
    version: int


class AgentOut(Schema):
    id: int
    username: str
    full_name: str


class CustomerOut(Schema):
    id: str
    customer_no: str
    kind: str
    name: str
    tier: str
    segments: list[str]
    province: str
    city: str
    address: str
    account_agent: AgentOut | None
    first_contact_due_at: dt.datetime | None
    first_contacted_at: dt.datetime | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    contacts: list[ContactOut]


class CustomerPage(Schema):
    items: list[CustomerOut]
    next_cursor: str | None


class NoteIn(Strict):
    body: str = Field(..., max_length=5000)


class NoteOut(Schema):
    id: int
    body: str
    author: str
    created_at: dt.datetime


class AccountAgentIn(Strict):
    agent_id: int | None = Field(None, description="Omit to let kefu choose by load and skills")


# Responses are built as plain dicts and validated once, by ninja against the declared schema:
# building the schema objects here too doubled the cost of a 50-row page.
def _contact_out(contact: Contact, *, reveal: bool) -> dict[str, Any]:
    view = selectors.contact_view(contact, reveal=reveal)
    return {
        "id": view.public_id,
        "name": view.name,
        "title": view.title,
        "phone": view.phone,
        "email": view.email,
        "wechat_id": view.wechat_id,
        "preferred_channel": view.preferred_channel,
        "quiet_hours": view.quiet_hours,
        "is_primary": view.is_primary,
        "masked": not reveal,
        "version": contact.version,
    }


def _customer_out(
    customer: Customer, *, reveal: bool, contacts: list[Contact] | None = None
) -> dict[str, Any]:
    agent = customer.account_agent
    contacts = list(customer.contacts.all()) if contacts is None else contacts
    return {
        "id": customer.public_id,
        "customer_no": customer.customer_no,
        "kind": customer.kind,
        "name": customer.name,
        "tier": customer.tier,
        "segments": [s.code for s in customer.segments.all()],
        "province": customer.province,
        "city": customer.city,
        "address": selectors.customer_address(customer, reveal=reveal),
        "account_agent": {"id": agent.pk, "username": agent.username, "full_name": agent.full_name}
        if agent
        else None,
        "first_contact_due_at": customer.first_contact_due_at,
        "first_contacted_at": customer.first_contacted_at,
        "version": customer.version,
        "created_at": customer.created_at,
        "updated_at": customer.updated_at,
        "contacts": [_contact_out(c, reveal=reveal) for c in contacts],
    }


def _detail(request: AuthedRequest, public_id: str) -> dict[str, Any]:
    """The full customer; unmasked for roles with ``view_personal_data``, and that view is logged."""
    customer = selectors.customer_detail(request.user, public_id)
    reveal = may_view_personal_data(request.user)
    contacts = list(customer.contacts.all())
    if reveal:
        services.record_pii_view(actor=request.user, customer=customer, contacts=contacts, where="api")
    return _customer_out(customer, reveal=reveal, contacts=contacts)


class CustomerFilters(Schema):
    q: str = Field(
        "", max_length=100, description="Name (contains), customer number (prefix) or phone / last 4+ digits"
    )
    tier: Tier | None = None
    kind: CustomerKind | None = None
    segment: str = ""
    account_agent: int | None = None
    city: str = ""
    cursor: str | None = None
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=200)


@router.get(
    "", response=CustomerPage, summary="List and search customers (keyset pagination; contacts masked)"
)
def list_customers(request: AuthedRequest, filters: Query[CustomerFilters]) -> dict[str, Any]:
    page = selectors.customer_page(
        request.user,
        q=filters.q,
        tier=filters.tier or "",
        kind=filters.kind or "",
        segment=filters.segment,
        account_agent=filters.account_agent,
        city=filters.city,
        cursor=filters.cursor,
        limit=filters.limit,
    )
    # Lists are always masked: unmasked personal data is shown, and logged, one record at a time.
    return {"items": [_customer_out(c, reveal=False) for c in page.items], "next_cursor": page.next_cursor}


@router.post("", response={201: CustomerOut}, summary="Create a customer with its contacts")
def create_customer(request: AuthedRequest, payload: CustomerIn) -> dict[str, Any]:
    require_perm(request.user, "customers.add_customer")
    customer = services.customer_create(
        actor=request.user,
        name=payload.name,
        kind=payload.kind,
        tier=payload.tier,
        customer_no=payload.customer_no,
        segments=payload.segments,
        province=payload.province,
        city=payload.city,
        address=payload.address,
        contacts=[c.to_data() for c in payload.contacts],
        source="api",
    )
    return _detail(request, customer.public_id)  # the only declared status, 201


@router.get("/{public_id}", response=CustomerOut, summary="One customer with its contacts")
def get_customer(request: AuthedRequest, public_id: str) -> dict[str, Any]:
    return _detail(request, public_id)


@router.patch(
    "/{public_id}", response=CustomerOut, summary="Change a customer (send `version` to detect conflicts)"
)
def update_customer(request: AuthedRequest, public_id: str, payload: CustomerPatch) -> dict[str, Any]:
    customer = access_customer(request.user, public_id)
    require_perm(request.user, "customers.change_customer")
    changes: dict[str, Any] = payload.model_dump(exclude_unset=True)
    version = changes.pop("version", None)
    segments = changes.pop("segments", None)
    # Optional in the schema means "may be left out", not "may be null": the columns are NOT NULL.
    nulls = sorted(name for name, value in changes.items() if value is None)
    if nulls:
        raise ValidationFailed(
            _("请求数据有误，请检查各字段"), fields={name: [_("不能为空")] for name in nulls}
        )
    services.customer_update(
        actor=request.user, customer=customer, version=version, segments=segments, **changes
    )
    return _detail(request, public_id)


@router.post("/{public_id}/assign", response=CustomerOut, summary="Assign the account agent")
def assign_customer(request: AuthedRequest, public_id: str, payload: AccountAgentIn) -> dict[str, Any]:
    customer = access_customer(request.user, public_id)
    require_perm(request.user, "customers.assign_account_agent")
    agent = None
    if payload.agent_id is not None:
        agent = User.objects.filter(pk=payload.agent_id).first()
        if agent is None:
            raise ValidationFailed.for_field(
                "agent_id", _("没有编号为 %(id)s 的员工") % {"id": payload.agent_id}
            )
    services.customer_assign_account_agent(actor=request.user, customer=customer, agent=agent)
    return _detail(request, public_id)


def _contact_of(customer: Customer, contact_id: str) -> Contact:
    contact = customer.contacts.filter(public_id=contact_id).first()
    if contact is None:
        raise NotFound(_("联系人不存在"))
    return contact


@router.get("/{public_id}/contacts", response=list[ContactOut], summary="A customer's contacts")
def list_contacts(request: AuthedRequest, public_id: str) -> list[dict[str, Any]]:
    customer = access_customer(request.user, public_id)
    contacts = list(customer.contacts.order_by("-is_primary", "id"))
    reveal = may_view_personal_data(request.user)
    if reveal:
        services.record_pii_view(actor=request.user, customer=customer, contacts=contacts, where="api")
    return [_contact_out(c, reveal=reveal) for c in contacts]


@router.post("/{public_id}/contacts", response={201: ContactOut}, summary="Add a contact")
def create_contact(request: AuthedRequest, public_id: str, payload: ContactIn) -> dict[str, Any]:
    customer = access_customer(request.user, public_id)
    require_perm(request.user, "customers.add_contact")
    contact = services.contact_create(actor=request.user, customer=customer, data=payload.to_data())
    return _contact_echo(request, customer, contact)


@router.put(
    "/{public_id}/contacts/{contact_id}",
    response=ContactOut,
    summary="Replace a contact's details (`version` required; 409 when stale)",
)
def update_contact(
    request: AuthedRequest, public_id: str, contact_id: str, payload: ContactReplace
) -> dict[str, Any]:
    customer = access_customer(request.user, public_id)
    require_perm(request.user, "customers.change_contact")
    contact = services.contact_update(
        actor=request.user,
        contact=_contact_of(customer, contact_id),
        data=payload.to_data(),
        version=payload.version,
    )
    return _contact_echo(request, customer, contact)


def _contact_echo(request: AuthedRequest, customer: Customer, contact: Contact) -> dict[str, Any]:
    """The contact just written, as the caller may see it (an unmasked echo is a logged view too)."""
    reveal = may_view_personal_data(request.user)
    if reveal:
        services.record_pii_view(actor=request.user, customer=customer, contacts=[contact], where="api")
    return _contact_out(contact, reveal=reveal)


@router.delete("/{public_id}/contacts/{contact_id}", response={204: None}, summary="Delete a contact")
def delete_contact(request: AuthedRequest, public_id: str, contact_id: str) -> None:
    customer = access_customer(request.user, public_id)
    require_perm(request.user, "customers.delete_contact")
    services.contact_delete(actor=request.user, contact=_contact_of(customer, contact_id))


@router.post("/{public_id}/notes", response={201: NoteOut}, summary="Add a note to a customer")
def add_note(request: AuthedRequest, public_id: str, payload: NoteIn) -> NoteOut:
    customer = access_customer(request.user, public_id)
    if getattr(request.user, "is_portal_user", False):
        raise PermissionDenied(_("客户门户用户不能添加内部备注"))
    require_perm(request.user, "customers.add_customernote")
    note = services.customer_note_add(actor=request.user, customer=customer, body=payload.body)
    return NoteOut(id=note.pk, body=note.body, author=str(request.user), created_at=note.created_at)
