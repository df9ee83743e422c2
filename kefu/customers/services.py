"""Every write to customers, contacts, notes and portal accounts. Each function is one transaction and
records an audit event with the acting user."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.actors import Actor, person
from kefu.accounts.enums import Role
from kefu.accounts.models import User
from kefu.core import audit
from kefu.core.errors import Conflict, ValidationFailed
from kefu.core.events import ActorRef, publish
from kefu.core.models import AuditAction
from kefu.core.phones import normalize_phone, reversed_digits
from kefu.core.sequences import next_values
from kefu.customers.enums import ContactChannel, CustomerKind, CustomerSource, Tier
from kefu.customers.events import CustomerTierChanged
from kefu.customers.models import Contact, Customer, CustomerNote, PortalAccount, Segment

CUSTOMER_FIELDS = ("customer_no", "kind", "name", "tier", "province", "city", "address", "is_active")
CONTACT_FIELDS = (
    "name",
    "title",
    "phone",
    "email",
    "wechat_id",
    "preferred_channel",
    "quiet_hours_start",
    "quiet_hours_end",
    "is_primary",
)
CUSTOMER_NO_PREFIX = "KH"


@dataclass
class ContactData:
    """A contact as callers give it, before validation."""

    name: str
    phone: str = ""
    email: str = ""
    wechat_id: str = ""
    title: str = ""
    preferred_channel: str = ContactChannel.PHONE
    quiet_hours_start: dt.time | None = None
    quiet_hours_end: dt.time | None = None
    is_primary: bool = False
    errors: dict[str, list[str]] = field(default_factory=dict)


def _choice(value: str, choices: type[Any], name: str, errors: dict[str, list[str]]) -> str:
    if value not in choices.values:
        allowed = _("、").join(choices.values)
        errors.setdefault(name, []).append(
            _("取值 %(value)s 无效，可选：%(allowed)s") % {"value": repr(value), "allowed": allowed}
        )
    return value


def validate_contact(data: ContactData, *, prefix: str = "") -> dict[str, Any]:
    """Clean a contact's values; raise ValidationFailed naming every bad field (prefixed for nesting)."""
    errors: dict[str, list[str]] = {}
    name = data.name.strip()
    if not name:
        errors[f"{prefix}name"] = [_("联系人姓名不能为空")]
    phone = ""
    try:
        phone = normalize_phone(data.phone, field=f"{prefix}phone")
    except ValidationFailed as exc:
        errors.update(exc.fields)
    email = data.email.strip()
    if email:
        try:
            validate_email(email)
        except DjangoValidationError:
            errors[f"{prefix}email"] = [_("邮箱地址无效：%(email)s") % {"email": email}]
    _choice(data.preferred_channel, ContactChannel, f"{prefix}preferred_channel", errors)
    if (data.quiet_hours_start is None) != (data.quiet_hours_end is None):
        errors[f"{prefix}quiet_hours"] = [_("免打扰时段需要同时填写开始和结束时间")]
    if not (data.phone or "").strip() and not email and not data.wechat_id.strip():
        errors.setdefault(f"{prefix}phone", []).append(_("电话、邮箱、微信号至少填写一项"))
    if errors:
        raise ValidationFailed(_("联系人信息有误"), fields=errors)
    return {
        "name": name,
        "title": data.title.strip(),
        "phone": phone,
        "phone_rev": reversed_digits(phone),
        "email": email.lower(),
        "wechat_id": data.wechat_id.strip(),
        "preferred_channel": data.preferred_channel,
        "quiet_hours_start": data.quiet_hours_start,
        "quiet_hours_end": data.quiet_hours_end,
        "is_primary": data.is_primary,
    }


def validate_customer_fields(values: Mapping[str, Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if "name" in values and not str(values["name"]).strip():
        errors["name"] = [_("客户名称不能为空")]
    if "kind" in values:
        _choice(values["kind"], CustomerKind, "kind", errors)
    if "tier" in values:
        _choice(values["tier"], Tier, "tier", errors)
    if "customer_no" in values:
        number = str(values["customer_no"]).strip()
        if not number or len(number) > 32 or not number.replace("-", "").replace("_", "").isalnum():
            errors["customer_no"] = [
                _("客户编号 %(number)s 无效：1-32 位字母、数字、- 或 _") % {"number": repr(number)}
            ]
    return errors


def generate_customer_numbers(count: int) -> list[str]:
    return [f"{CUSTOMER_NO_PREFIX}{n:07d}" for n in next_values("customer_no", count)]


def resolve_segments(codes: Iterable[str]) -> list[Segment]:
    codes = [c.strip() for c in codes if c and c.strip()]
    if not codes:
        return []
    found = {s.code: s for s in Segment.objects.filter(code__in=codes)}
    by_name = {s.name: s for s in Segment.objects.filter(name__in=codes)}
    missing = [c for c in codes if c not in found and c not in by_name]
    if missing:
        raise ValidationFailed.for_field(
            "segments", _("未知的客户细分：%(segments)s") % {"segments": _("、").join(missing)}
        )
    return [found.get(c) or by_name[c] for c in codes]


@transaction.atomic
def customer_create(
    *,
    actor: Actor,
    name: str,
    kind: str = CustomerKind.ORGANIZATION,
    tier: str = Tier.STANDARD,
    customer_no: str | None = None,
    segments: Sequence[str] = (),
    province: str = "",
    city: str = "",
    address: str = "",
    contacts: Sequence[ContactData] = (),
    source: str = CustomerSource.MANUAL,
    assign_account_agent: bool = True,
) -> Customer:
    values: dict[str, Any] = {"name": name, "kind": kind, "tier": tier}
    if customer_no is not None:
        values["customer_no"] = customer_no
    errors = validate_customer_fields(values)
    cleaned_contacts: list[dict[str, Any]] = []
    for index, contact in enumerate(contacts):
        try:
            cleaned_contacts.append(validate_contact(contact, prefix=f"contacts.{index}."))
        except ValidationFailed as exc:
            errors.update(exc.fields)
    try:
        segment_objs = resolve_segments(segments)
    except ValidationFailed as exc:
        errors.update(exc.fields)
        segment_objs = []
    number = (customer_no or "").strip()
    if number and Customer.objects.filter(customer_no=number).exists():
        errors.setdefault("customer_no", []).append(_("客户编号 %(number)s 已存在") % {"number": number})
    if errors:
        raise ValidationFailed(_("客户信息有误"), fields=errors)
    try:
        with transaction.atomic():  # a savepoint: a concurrent insert of the same number loses cleanly
            customer = Customer.objects.create(
                customer_no=number or generate_customer_numbers(1)[0],
                kind=kind,
                name=name.strip(),
                tier=tier,
                province=province.strip(),
                city=city.strip(),
                address=address.strip(),
                source=source,
            )
    except IntegrityError:
        raise ValidationFailed.for_field(
            "customer_no", _("客户编号 %(number)s 已存在") % {"number": number}
        ) from None
    if segment_objs:
        customer.segments.set(segment_objs)
    initial = {name: [None, value] for name, value in audit.snapshot(customer, CUSTOMER_FIELDS).items()}
    initial["segments"] = [None, sorted(s.code for s in segment_objs)]  # as customer_update records them
    audit.record(actor=actor, action=AuditAction.CREATE, obj=customer, changes=initial)
    if cleaned_contacts and not any(c["is_primary"] for c in cleaned_contacts):
        cleaned_contacts[0]["is_primary"] = True
    for values_ in cleaned_contacts:
        created = Contact.objects.create(customer=customer, **values_)
        audit.record_created(actor=actor, obj=created, fields=CONTACT_FIELDS)
    if assign_account_agent:
        _assign(actor=actor, customer=customer, agent=None, new=True)
    return customer


@transaction.atomic
def customer_update(
    *,
    actor: Actor,
    customer: Customer,
    version: int | None = None,
    segments: Sequence[str] | None = None,
    **changes: Any,
) -> Customer:
    """Change a customer's own fields. ``version`` (when given) must match the stored one, else 409."""
    unknown = set(changes) - set(CUSTOMER_FIELDS)
    if unknown:
        raise ValidationFailed(
            _("不支持修改的字段"), fields={name: [_("不允许修改此字段")] for name in sorted(unknown)}
        )
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    if version is not None and version != locked.version:
        raise Conflict(
            _("客户资料已被他人修改（当前版本 %(current)s，你的版本 %(yours)s），请刷新后重试")
            % {"current": locked.version, "yours": version}
        )
    errors = validate_customer_fields(changes)
    if "customer_no" in changes:
        number = str(changes["customer_no"]).strip()
        if Customer.objects.filter(customer_no=number).exclude(pk=locked.pk).exists():
            errors.setdefault("customer_no", []).append(_("客户编号 %(number)s 已存在") % {"number": number})
    segment_objs = None
    if segments is not None:
        try:
            segment_objs = resolve_segments(segments)
        except ValidationFailed as exc:
            errors.update(exc.fields)
    if errors:
        raise ValidationFailed(_("客户信息有误"), fields=errors)
    before = audit.snapshot(locked, CUSTOMER_FIELDS)
    before_segments = sorted(locked.segments.values_list("code", flat=True))
    for name, value in changes.items():
        setattr(locked, name, value.strip() if isinstance(value, str) else value)
    diff = audit.diff(before, locked)
    if segment_objs is not None:
        after_segments = sorted(s.code for s in segment_objs)
        if after_segments != before_segments:
            locked.segments.set(segment_objs)
            diff["segments"] = [before_segments, after_segments]
    if diff:
        locked.version += 1
        locked.updated_at = timezone.now()
        locked.save()
        audit.record(actor=actor, action=AuditAction.UPDATE, obj=locked, changes=diff)
    if "tier" in diff:
        old_tier, new_tier = diff["tier"]
        publish(
            CustomerTierChanged(
                actor=ActorRef.of(actor), customer_id=locked.pk, old_tier=old_tier, new_tier=new_tier
            )
        )
    return locked


def _candidate_agents(customer: Customer) -> list[User]:
    """Active agents ranked by: matching skills for the customer's segments (most first), then the
    fewest assigned customers, then id — so assignment balances load among the qualified."""
    needed = set(customer.segments.exclude(skill=None).values_list("skill_id", flat=True))
    agents = (
        User.objects.filter(role=Role.AGENT, is_active=True)
        .annotate(load=Count("account_customers", filter=Q(account_customers__is_active=True)))
        .prefetch_related("skills")
    )

    def rank(agent: User) -> tuple[int, int, int]:
        skills = {s.pk for s in agent.skills.all()}
        return (-len(needed & skills), int(getattr(agent, "load", 0)), agent.pk)

    return sorted(agents, key=rank)


def first_contact_due(assigned_at: dt.datetime) -> dt.datetime:
    return assigned_at + dt.timedelta(days=settings.KEFU_FIRST_CONTACT_DAYS)


@transaction.atomic
def customer_assign_account_agent(*, actor: Actor, customer: Customer, agent: User | None = None) -> Customer:
    """Give the customer an account agent who must make first contact within ``KEFU_FIRST_CONTACT_DAYS``
    days: ``agent`` when named, else the best-ranked agent — unless the customer already has an active
    agent, who keeps the customer (automatic assignment never moves a customer someone looks after)."""
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    return _assign(actor=actor, customer=locked, agent=agent, new=False)


def _assign(*, actor: Actor, customer: Customer, agent: User | None, new: bool) -> Customer:
    """Precondition: ``customer`` is freshly created in this transaction or row-locked."""
    if agent is None:
        current = customer.account_agent
        if current is not None and current.is_active and current.role == Role.AGENT:
            return customer
        candidates = _candidate_agents(customer)
        if not candidates:
            return customer
        agent = candidates[0]
    elif agent.role != Role.AGENT or not agent.is_active:
        raise ValidationFailed.for_field("agent_id", _("%(agent)s 不是在职的客服专员") % {"agent": agent})
    if customer.account_agent_id == agent.pk:
        return customer
    before = audit.snapshot(customer, ("account_agent", "first_contact_due_at"))
    now = timezone.now()
    customer.account_agent = agent
    customer.account_assigned_at = now
    customer.first_contact_due_at = first_contact_due(now)
    customer.first_contacted_at = None
    fields = ["account_agent", "account_assigned_at", "first_contact_due_at", "first_contacted_at"]
    if not new:  # a new customer's first assignment is part of its creation, not a second version
        customer.version += 1
        customer.updated_at = now
        fields += ["version", "updated_at"]
    customer.save(update_fields=fields)
    audit.record(actor=actor, action=AuditAction.UPDATE, obj=customer, changes=audit.diff(before, customer))
    return customer


@transaction.atomic
def customer_mark_contacted(*, actor: Actor, customer: Customer) -> Customer:
    if customer.first_contacted_at is not None:
        return customer
    customer.first_contacted_at = timezone.now()
    customer.save(update_fields=["first_contacted_at"])
    audit.record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=customer,
        changes={"first_contacted_at": [None, customer.first_contacted_at.isoformat()]},
    )
    return customer


@transaction.atomic
def contact_create(*, actor: Actor, customer: Customer, data: ContactData) -> Contact:
    values = validate_contact(data)
    if values["is_primary"]:
        customer.contacts.filter(is_primary=True).update(is_primary=False)
    elif not customer.contacts.exists():
        values["is_primary"] = True
    contact = Contact.objects.create(customer=customer, **values)
    audit.record_created(actor=actor, obj=contact, fields=CONTACT_FIELDS)
    return contact


@transaction.atomic
def contact_update(
    *, actor: Actor, contact: Contact, data: ContactData, version: int | None = None
) -> Contact:
    """Replace a contact's values. ``version`` (when given) must match the stored one, else 409."""
    locked = Contact.objects.select_for_update().get(pk=contact.pk)
    if version is not None and version != locked.version:
        raise Conflict(
            _("联系人已被他人修改（当前版本 %(current)s，你的版本 %(yours)s），请核对后再保存")
            % {"current": locked.version, "yours": version}
        )
    values = validate_contact(data)
    before = audit.snapshot(locked, CONTACT_FIELDS)
    for name, value in values.items():
        setattr(locked, name, value)
    if locked.is_primary:
        Contact.objects.filter(customer_id=locked.customer_id, is_primary=True).exclude(pk=locked.pk).update(
            is_primary=False
        )
    changes = audit.diff(before, locked)
    if changes:
        locked.version += 1
        locked.save()
        audit.record(actor=actor, action=AuditAction.UPDATE, obj=locked, changes=changes)
    return locked


@transaction.atomic
def contact_delete(*, actor: Actor, contact: Contact) -> None:
    audit.record(
        actor=actor,
        action=AuditAction.DELETE,
        obj=contact,
        changes={name: [value, None] for name, value in audit.snapshot(contact, CONTACT_FIELDS).items()},
    )
    contact.delete()


@transaction.atomic
def customer_note_add(*, actor: User, customer: Customer, body: str) -> CustomerNote:
    body = body.strip()
    if not body:
        raise ValidationFailed.for_field("body", _("备注内容不能为空"))
    if len(body) > 5000:
        raise ValidationFailed.for_field("body", _("备注不能超过 %(max)s 字") % {"max": 5000})
    note = CustomerNote.objects.create(customer=customer, author=person(actor), body=body)
    audit.record_created(actor=actor, obj=note, fields=("body",))
    return note


@transaction.atomic
def portal_account_create(
    *, actor: Actor, customer: Customer, username: str, password: str, full_name: str = "", email: str = ""
) -> PortalAccount:
    from kefu.accounts.services import user_create

    if customer.kind != CustomerKind.ORGANIZATION:
        raise ValidationFailed.for_field("customer", _("只有企业客户可以开通门户账号"))
    user = user_create(
        actor=actor,
        username=username,
        password=password,
        role=Role.CUSTOMER,
        full_name=full_name,
        email=email,
    )
    account = PortalAccount.objects.create(user=user, customer=customer)
    audit.record_created(actor=actor, obj=account, fields=("user", "customer"))
    return account


def record_pii_view(*, actor: Actor, customer: Customer, contacts: Iterable[Contact], where: str) -> None:
    """Log that ``actor`` saw ``customer``'s personal data unmasked (who, when, which records, where)."""
    audit.record(
        actor=actor,
        action=AuditAction.VIEW_PII,
        obj=customer,
        changes={"contacts": [None, [c.public_id for c in contacts]], "where": [None, where]},
    )


def record_phone_lookup(*, actor: User, query: str, matches: int) -> None:
    """Log a phone lookup by someone who sees phone numbers masked: what they typed and how many
    customers it matched, filed under the user (a search has no one record to file it under)."""
    audit.record(
        actor=actor,
        action=AuditAction.VIEW_PII,
        obj=person(actor),
        changes={"where": [None, "phone_search"], "query": [None, query], "matches": [None, matches]},
    )
