"""Every write to a ticket. Each function is one transaction, validates before it saves, bumps the
ticket's ``version`` and writes an audit event with the actor and the changed fields (old → new).

Concurrency: writers row-lock the ticket (``access.access_ticket(..., lock=True)`` or
``_lock``); edits that carry the ``version`` the user read fail with Conflict (HTTP 409) when the ticket
changed since, naming what changed; tag edits are add/remove operations, so concurrent edits merge.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.core.files import File
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from kefu.accounts.models import Team, User
from kefu.accounts.roles import HANDLING_ROLES
from kefu.core import audit, reference
from kefu.core.errors import Conflict, ValidationFailed
from kefu.core.models import AuditAction, AuditEvent
from kefu.core.notifications import notify, register_kind
from kefu.core.sequences import next_value
from kefu.customers.models import Contact, Customer
from kefu.tickets import text, workflow
from kefu.tickets.access import has_wide_scope
from kefu.tickets.enums import (
    AuthorKind,
    Channel,
    CloseReason,
    FieldKind,
    Priority,
    StatusCategory,
    TicketType,
    Visibility,
)
from kefu.tickets.models import Attachment, Category, CustomField, Message, Status, Tag, Ticket, TicketWaybill
from kefu.tickets.waybills import waybills_clean

TICKET_FIELDS = (
    "subject",
    "description",
    "channel",
    "type",
    "category",
    "priority",
    "customer",
    "contact",
    "team",
    "assignee",
    "status",
    "custom_fields",
)
EDITABLE = (
    "subject",
    "description",
    "type",
    "category",
    "priority",
    "team",
    "assignee",
    "custom_fields",
    "contact",
)

# What each notification the tickets write says, filled in the reader's language when it is shown.
NOTICES = {
    "assigned": gettext_lazy("%(actor)s 把工单 %(number)s 分配给了你：%(subject)s"),
    "mention": gettext_lazy("%(actor)s 在工单 %(number)s 中提到了你"),
    "customer_reply": gettext_lazy("客户回复了你的工单 %(number)s：%(subject)s"),
    "resolution_rejected": gettext_lazy("客户认为工单 %(number)s 还没有解决：%(subject)s"),
}
for _kind, _template in NOTICES.items():
    register_kind(_kind, _template)


def _notify_about(
    *, ticket: Ticket, users: Iterable[User], kind: str, actor: Any, key: str, anchor: str = ""
) -> None:
    """Notify ``users`` about ``ticket``, each only if they may open it (``access.visible_tickets``, the
    one predicate): a notice must not name a ticket, or link to one, its reader is not allowed to see."""
    from kefu.tickets.access import users_who_may_see

    readers = users_who_may_see(ticket, users)
    if not readers:
        return
    params = {"actor": audit.actor_of(actor)[2], "number": ticket.number, "subject": ticket.subject[:80]}
    notify(
        users=readers,
        kind=kind,
        title=str(NOTICES[kind]) % params,
        params=params,
        url=f"/tickets/{ticket.number}/{anchor}",
        key=key,
    )


# --- numbers and configuration --------------------------------------------------------------------


def new_ticket_number(now: dt.datetime | None = None) -> str:
    """``T`` + local date (yymmdd) + a per-day counter: ``T2611250001`` — short enough to say on the phone."""
    day = timezone.localtime(now or timezone.now()).strftime("%y%m%d")
    return f"T{day}{next_value(f'ticket:{day}'):04d}"


def category_named(code: str) -> Category | None:
    """The active category ``code`` with its default team (cached: kefu.core.reference)."""
    return reference.cached(
        f"category:{code}",
        lambda: Category.objects.select_related("default_team").filter(code=code, is_active=True).first(),
    )


def default_status(category: str) -> Status:
    status = reference.cached(
        f"status:{category}",
        lambda: Status.objects.filter(category=category).order_by("-is_default", "position").first(),
    )
    if status is None:
        raise ValidationFailed.for_field(
            "status", _("没有配置“%(category)s”类别的状态") % {"category": category}
        )
    return status


# Longest value of a text custom field: a line or a short paragraph, not a document (a 1 MB JSON object
# used to be accepted and stored).
CUSTOM_TEXT_MAX_CHARS = 1000


def validate_custom_fields(category: Category | None, values: Mapping[str, Any]) -> dict[str, Any]:
    """Check ``values`` against the category's fields: every required one present, each value of its
    field's type (text: a string of at most CUSTOM_TEXT_MAX_CHARS), choices valid, no unknown keys. Errors
    are named ``custom_fields.<key>``."""
    fields = (
        reference.cached(
            f"fields:{category.pk}", lambda: {f.key: f for f in CustomField.objects.filter(category=category)}
        )
        if category
        else {}
    )
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for key, given in values.items():
        spec = fields.get(key)
        if spec is None:
            errors[f"custom_fields.{key}"] = [_("该分类没有此字段")]
            continue
        if given in (None, ""):
            continue
        # An English choice name stands for its stored value.
        value = spec.choice_value(given) if spec.kind == FieldKind.CHOICE else given
        if spec.kind == FieldKind.CHOICE and value not in spec.choices:
            choices = _("、").join(spec.choice_label(c) for c in spec.choices)
            errors[f"custom_fields.{key}"] = [
                _("“%(label)s”的可选值：%(choices)s") % {"label": spec.localized_label, "choices": choices}
            ]
        elif spec.kind == FieldKind.TEXT and (
            not isinstance(value, str) or len(value) > CUSTOM_TEXT_MAX_CHARS
        ):
            errors[f"custom_fields.{key}"] = [
                _("“%(label)s”应为文本，最多 %(max)s 个字")
                % {"label": spec.label, "max": CUSTOM_TEXT_MAX_CHARS}
            ]
        elif spec.kind == FieldKind.NUMBER and (
            not isinstance(value, int | float) or isinstance(value, bool)
        ):
            errors[f"custom_fields.{key}"] = [_("必须是数字")]
        elif spec.kind == FieldKind.BOOL and not isinstance(value, bool):
            errors[f"custom_fields.{key}"] = [_("必须是“是”或“否”")]
        elif spec.kind == FieldKind.DATE:
            try:
                if not isinstance(value, str):
                    raise ValueError(value)
                dt.date.fromisoformat(value)
            except ValueError:
                errors[f"custom_fields.{key}"] = [_("日期格式应为 YYYY-MM-DD")]
        cleaned[key] = value
    for key, spec in fields.items():
        if spec.required and cleaned.get(key) in (None, ""):
            errors.setdefault(f"custom_fields.{key}", []).append(
                _("“%(label)s”为必填项") % {"label": spec.localized_label}
            )
    if errors:
        raise ValidationFailed(_("分类要求的字段不完整或有误"), fields=errors)
    return cleaned


def _choice(value: str, choices: Any, name: str, errors: dict[str, list[str]]) -> None:
    if value not in choices.values:
        errors.setdefault(name, []).append(_("取值 %(value)r 无效") % {"value": value})


def _reindex(ticket: Ticket) -> None:
    """Rebuild ``search_text`` from the ticket's fields, waybills and messages (``message_add`` appends a
    message's tokens; a rebuild must keep them, or an edit would make the conversation unsearchable),
    and ``internal_search_text``: the tokens only internal notes hold, which portal searches leave out."""
    waybills = " ".join(ticket.waybills.values_list("waybill_no", flat=True))
    public: list[str] = []
    internal: list[str] = []
    if ticket.pk:
        for body, visibility in ticket.messages.values_list("body_text", "visibility"):
            (public if visibility == Visibility.PUBLIC else internal).append(body)
    public_tokens = text.tokens(ticket.number, ticket.subject, ticket.description, waybills, *public)
    internal_tokens = text.tokens(*internal)
    ticket.search_text = text.merged(public_tokens, internal_tokens)
    ticket.internal_search_text = text.without(internal_tokens, public_tokens)


def _touch(ticket: Ticket, fields: list[str]) -> None:
    ticket.version += 1
    ticket.updated_at = timezone.now()
    ticket.save(update_fields=[*fields, "version", "updated_at"])


def _versioned(changes: Mapping[str, Any], ticket: Ticket) -> dict[str, Any]:
    """An audit diff with the version it made (after ``_touch``), so a conflict check can tell the
    changes after a version from those before it. The timeline does not show it."""
    return {**changes, "version": [ticket.version - 1, ticket.version]}


def _lock(ticket: Ticket) -> Ticket:
    return Ticket.objects.select_for_update().get(pk=ticket.pk)


def _check_version(
    ticket: Ticket, version: int | None, *, fields: Iterable[str] | None = None, actor: Any = None
) -> None:
    """Precondition: ``ticket`` is row-locked. 409 when the ticket changed since ``version`` in one of
    ``fields`` (``None``: in anything), saying who changed what and when in plain words. A change to
    other fields is no conflict: the caller's write goes on top of it (someone else's assignment does
    not hold back a status change). ``"messages"`` in ``fields`` means another person's message.

    Which changes came after ``version``: ticket audit events carry the version they made
    (``changes["version"]``, hidden in the timeline) and messages the ticket version they made
    (``Message.ticket_version``). Events without that mark (written before it existed, or by
    collaboration writes that bump the version without touching the fields a form edits) count as
    newer when they are among the latest ``ticket.version - version`` events — the safe side."""
    if version is None or version >= ticket.version:
        return
    wanted = None if fields is None else set(fields)
    news = [sentence for _at, sentence in _changes_since(ticket, version, wanted, actor=actor)]
    if wanted is not None and not news:
        return
    if not news:
        news = [
            _("工单在你打开之后有了新变更（版本 %(mine)s → %(current)s）")
            % {"mine": version, "current": ticket.version}
        ]
    raise Conflict(
        _("你打开页面之后，工单有了变更：%(changes)s。请查看后再提交。") % {"changes": _("；").join(news)}
    )


def _changes_since(
    ticket: Ticket, version: int, wanted: set[str] | None, *, actor: Any
) -> list[tuple[dt.datetime, str]]:
    """The changes to ``wanted`` fields made after ``version``, oldest first, each in plain words."""
    found: list[tuple[dt.datetime, str]] = []
    events = (
        AuditEvent.objects.filter(
            content_type__app_label="tickets", content_type__model="ticket", object_id=str(ticket.pk)
        )
        .exclude(action__in=(AuditAction.VIEW_PII, AuditAction.CREATE))
        .order_by("-id")[: ticket.version - version]
    )
    for event in events:
        changes = event.changes if isinstance(event.changes, dict) else {}
        made = changes.get("version")
        if isinstance(made, list) and len(made) == 2 and isinstance(made[1], int) and made[1] <= version:
            continue
        for name, pair in changes.items():
            if name in ("version", "status_category", "search_text") or (
                wanted is not None and name not in wanted
            ):
                continue
            if isinstance(pair, list) and len(pair) == 2:
                found.append((event.at, _change_in_words(event.actor_label, event.at, name, pair)))
    if wanted is None or "messages" in wanted:
        others = ticket.messages.filter(ticket_version__gt=version).select_related("author")
        if isinstance(actor, User):
            others = others.exclude(author=actor)
        for message in others.order_by("id"):
            found.append((message.created_at, _message_in_words(message)))
    return sorted(found, key=lambda item: item[0])


def _value_in_words(name: str, value: Any) -> str:
    if value in (None, "", [], {}):
        return "—"
    if name == "status":
        status = Status.objects.filter(name=str(value)).first()
        if status is not None:
            return (
                status.name_en if status.name_en and (get_language() or "").startswith("en") else status.name
            )
    try:
        choices = dict(getattr(Ticket._meta.get_field(name), "flatchoices", None) or [])
    except FieldDoesNotExist:
        choices = {}
    if value in choices:
        return str(choices[value])
    if isinstance(value, dict):
        return _("、").join(f"{k}：{v}" for k, v in value.items())
    if isinstance(value, list):
        return _("、").join(str(v) for v in value) or "—"
    return str(value)


def _change_in_words(who: str, at: dt.datetime, name: str, pair: list[Any]) -> str:
    """ "王芳 在 10:42 把状态从 处理中 改为 待客户回复"."""
    try:
        label = str(getattr(Ticket._meta.get_field(name), "verbose_name", name))
    except FieldDoesNotExist:
        label = {"tags": _("标签"), "waybills": _("运单号")}.get(name, name)
    return _("%(who)s 在 %(time)s 把%(field)s从 %(old)s 改为 %(new)s") % {
        "who": who,
        "time": timezone.localtime(at).strftime("%H:%M"),
        "field": label,
        "old": _value_in_words(name, pair[0]),
        "new": _value_in_words(name, pair[1]),
    }


def _message_in_words(message: Message) -> str:
    params = {
        "who": str(message.author) if message.author else _("客户"),
        "time": timezone.localtime(message.created_at).strftime("%H:%M"),
    }
    if message.author_kind == AuthorKind.CUSTOMER:
        return _("客户 在 %(time)s 发来了新消息") % params
    if message.visibility == Visibility.INTERNAL:
        return _("%(who)s 在 %(time)s 添加了内部备注") % params
    return _("%(who)s 在 %(time)s 回复了客户") % params


# --- who may handle a ticket, and what a customer may say about one -------------------------------


def assignable_users(*, actor: Any, team: Team | None) -> QuerySet[User]:
    """The staff ``actor`` may assign a ticket of ``team`` to: active users of a role that handles
    tickets, in that team — anyone of them when the ticket has no team or ``actor`` has a wide scope
    (and ``actor`` themselves: :func:`assignee_errors` lets anyone take a ticket they may open).
    The console offers this list; :func:`assignee_errors` refuses the same people on every path."""
    users = User.objects.filter(is_active=True, role__in=HANDLING_ROLES)
    if team is not None and not has_wide_scope(actor):
        users = users.filter(Q(pk__in=team.memberships.values("user_id")) | Q(pk=actor.pk))
    return users.order_by("full_name", "username")


def assignee_errors(*, actor: Any, team: Team | None, assignee: User) -> list[str]:
    """Why ``actor`` may not assign a ticket of ``team`` to ``assignee`` (empty: they may)."""
    if not assignee.is_active or assignee.is_portal_user:
        return [_("处理人必须是在职员工")]
    if assignee.role not in HANDLING_ROLES:
        return [
            _("%(name)s 的角色（%(role)s）不处理工单")
            % {"name": assignee, "role": assignee.get_role_display()}
        ]
    if (
        team is not None
        and assignee != actor  # taking a ticket one may open oneself (access decided that)
        and not has_wide_scope(actor)
        and not assignee.memberships.filter(team=team).exists()
    ):
        return [_("%(name)s 不是“%(team)s”的成员") % {"name": assignee, "team": team}]
    return []


def movable_teams(actor: Any) -> QuerySet[Team]:
    """The teams ``actor`` may give a ticket to: their own teams (so they keep seeing what they
    hand over), every team for a wide scope."""
    if has_wide_scope(actor):
        return Team.objects.order_by("name")
    return Team.objects.filter(memberships__user=actor).order_by("name")


def team_errors(*, actor: Any, team: Team) -> list[str]:
    """Why ``actor`` may not give a ticket to ``team`` (empty: they may)."""
    if not movable_teams(actor).filter(pk=team.pk).exists():
        return [_("不能把工单交给“%(team)s”：你不是该团队的成员") % {"team": team}]
    return []


# The types a customer may open: claims and exceptions are opened by staff (they start a process).
CUSTOMER_TYPES = tuple(t for t in TicketType if t not in (TicketType.CLAIM, TicketType.EXCEPTION))
# Ticket fields that are the desk's decision, not the customer's.
CUSTOMER_FORBIDDEN = ("priority", "team", "assignee", "tags")


def customer_ticket_errors(*, type: str, given: Iterable[str]) -> dict[str, list[str]]:
    """What a portal user may not set on a new ticket: ``given`` names the fields they sent."""
    errors: dict[str, list[str]] = {
        name: [_("不允许客户设置此字段")] for name in CUSTOMER_FORBIDDEN if name in set(given)
    }
    if type in TicketType.values and type not in CUSTOMER_TYPES:
        errors["type"] = [
            _("客户可选的类型：%(types)s") % {"types": _("、").join(str(t.label) for t in CUSTOMER_TYPES)}
        ]
    return errors


def _handling_errors(
    *, actor: Any, team: Team | None, team_chosen: bool, assignee: User | None
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if team is not None and team_chosen and (problems := team_errors(actor=actor, team=team)):
        errors["team"] = problems
    if assignee is not None and (problems := assignee_errors(actor=actor, team=team, assignee=assignee)):
        errors["assignee"] = problems
    return errors


# --- create ---------------------------------------------------------------------------------------


@dataclass
class TicketData:
    """A new ticket as any entry path (agent form, portal, API, e-mail, chat) gives it."""

    subject: str
    channel: str
    type: str
    description: str = ""
    category: Category | None = None
    priority: str = Priority.NORMAL
    customer: Customer | None = None
    contact: Contact | None = None
    team: Team | None = None
    assignee: User | None = None
    custom_fields: dict[str, Any] = field(default_factory=dict)
    tags: Sequence[str] = ()
    waybills: Sequence[str] = ()


def ticket_create(
    *, actor: Any, data: TicketData, author_kind: str = AuthorKind.AGENT, origin: Ticket | None = None
) -> Ticket:
    """Validate and create a ticket with its waybills, tags and audit entry; link it to an open problem
    whose rule it matches. Checks and reads come first, outside the write transaction: on SQLite that
    transaction holds the database's write lock, so it holds only the writes.

    Staff file it for any team and assign it among :func:`assignable_users`; a portal user sets only
    what :func:`customer_ticket_errors` allows. A ticket continuing ``origin`` (a split, a follow-up)
    keeps its assignee: that was not chosen now."""
    errors: dict[str, list[str]] = {}
    subject = data.subject.strip()
    if not subject:
        errors["subject"] = [_("主题不能为空")]
    elif len(subject) > 200:
        errors["subject"] = [_("主题不能超过 200 字")]
    _choice(data.channel, Channel, "channel", errors)
    _choice(data.type, TicketType, "type", errors)
    _choice(data.priority, Priority, "priority", errors)
    if (
        data.contact is not None
        and data.customer is not None
        and data.contact.customer_id != data.customer.pk
    ):
        errors["contact"] = [_("联系人不属于该客户")]
    if getattr(actor, "is_portal_user", False):
        given = [
            name
            for name, value in (
                ("priority", data.priority != Priority.NORMAL),
                ("team", data.team),
                ("assignee", data.assignee),
                ("tags", data.tags),
            )
            if value
        ]
        errors.update(customer_ticket_errors(type=data.type, given=given))
    else:
        errors.update(
            _handling_errors(
                actor=actor,
                team=data.team or (data.category.default_team if data.category else None),
                # A new ticket may be filed for any team: its creator keeps seeing it (access.reach).
                # Moving an existing ticket is what movable_teams limits.
                team_chosen=False,
                assignee=data.assignee if data.assignee != getattr(origin, "assignee", None) else None,
            )
        )
    custom: dict[str, Any] = {}
    try:
        custom = validate_custom_fields(data.category, data.custom_fields)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    waybills: list[str] = []
    try:
        waybills = waybills_clean(data.waybills)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    tag_names: list[str] = []
    try:
        tag_names = _clean_tags(data.tags)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if errors:
        raise ValidationFailed(_("工单信息有误"), fields=errors)
    status = default_status(StatusCategory.OPEN if data.assignee else StatusCategory.NEW)
    description = data.description.strip()
    checked = _CheckedTicket(
        subject=subject,
        description=description,
        customer=data.customer or (data.contact.customer if data.contact else None),
        status=status,
        custom=custom,
        # Tokenised before the insert: a new ticket has no messages yet (one write instead of two).
        search_text=text.tokens(subject, description, " ".join(waybills)),
        waybills=waybills,
        tag_names=tag_names,
    )
    with transaction.atomic():
        return _insert_ticket(actor=actor, data=data, checked=checked)


@dataclass(frozen=True)
class _CheckedTicket:
    """A new ticket's validated values, ready to write."""

    subject: str
    description: str
    customer: Customer | None
    status: Status
    custom: dict[str, Any]
    search_text: str  # without the number, which is taken inside the write transaction
    waybills: list[str]
    tag_names: list[str]


def _insert_ticket(*, actor: Any, data: TicketData, checked: _CheckedTicket) -> Ticket:
    number = new_ticket_number()
    ticket = Ticket.objects.create(
        number=number,
        subject=checked.subject,
        description=checked.description,
        channel=data.channel,
        type=data.type,
        category=data.category,
        priority=data.priority,
        customer=checked.customer,
        contact=data.contact,
        # No team given (portal, API): the category's default team, so the ticket reaches agents.
        team=data.team
        or (data.category.default_team if data.category and data.category.default_team_id else None),
        assignee=data.assignee,
        status=checked.status,
        status_category=checked.status.category,
        custom_fields=checked.custom,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        search_text=text.merged(text.tokens(number), checked.search_text),
    )
    # A new ticket has no tags or waybills to merge with: plain inserts, and the rows are remembered
    # so that serializing the new ticket reads no more.
    waybill_rows = TicketWaybill.objects.bulk_create(
        [TicketWaybill(ticket=ticket, waybill_no=w) for w in checked.waybills]
    )
    tags = _tags_named(checked.tag_names)
    Ticket.tags.through.objects.bulk_create([Ticket.tags.through(ticket=ticket, tag=tag) for tag in tags])
    _remember(ticket, tags=tags, waybills=waybill_rows)
    audit.record_created(actor=actor, obj=ticket, fields=TICKET_FIELDS)
    from kefu.tickets.collaboration import incident_autolink  # collaboration imports this module

    incident_autolink(ticket=ticket, waybills=checked.waybills)
    if data.assignee is not None and data.assignee != actor:
        _notify_about(
            ticket=ticket, users=[data.assignee], kind="assigned", actor=actor, key=f"assigned:{ticket.pk}:0"
        )
    return ticket


# --- edit -----------------------------------------------------------------------------------------


def _clean_tags(names: Iterable[str]) -> list[str]:
    cleaned = list(dict.fromkeys(n.strip() for n in names if n and n.strip()))
    for name in cleaned:
        if len(name) > 32:
            raise ValidationFailed.for_field("tags", _("标签不能超过 32 字：%(tag)s") % {"tag": name})
    return cleaned


def _tags_named(names: list[str]) -> list[Tag]:
    """The tags called ``names``, creating the missing ones (a concurrent creator is not an error)."""
    if not names:
        return []
    tags = list(Tag.objects.filter(name__in=names))
    if len(tags) < len(names):
        known = {tag.name for tag in tags}
        Tag.objects.bulk_create([Tag(name=n) for n in names if n not in known], ignore_conflicts=True)
        tags = list(Tag.objects.filter(name__in=names))
    return tags


def _remember(ticket: Ticket, **related: list[Any]) -> None:
    """Put rows just written into the ticket's prefetch cache (as ``prefetch_related`` would), so that
    ``ticket.tags.all()`` and the like read no more."""
    cache = ticket.__dict__.setdefault("_prefetched_objects_cache", {})
    for name, rows in related.items():
        queryset = getattr(ticket, name).all()
        queryset._result_cache = rows
        queryset._prefetch_done = True
        cache[name] = queryset


def _set_tags(ticket: Ticket, *, add: Iterable[str], remove: Iterable[str]) -> tuple[list[str], list[str]]:
    names = _clean_tags(add)
    removed_names = [n.strip() for n in remove if n and n.strip()]
    if not names and not removed_names:
        return [], []
    before = set(ticket.tags.values_list("name", flat=True))
    ticket.tags.add(*_tags_named(names))
    ticket.tags.remove(*Tag.objects.filter(name__in=removed_names))
    after = set(ticket.tags.values_list("name", flat=True))
    return sorted(after - before), sorted(before - after)


@transaction.atomic
def ticket_update(
    *,
    actor: Any,
    ticket: Ticket,
    version: int | None,
    changes: Mapping[str, Any],
    add_tags: Sequence[str] = (),
    remove_tags: Sequence[str] = (),
    waybills: Sequence[str] | None = None,
) -> Ticket:
    """Change editable fields. ``version`` is the version the user edited (None: don't check — bulk
    actions and integrations that want last-writer-wins on the fields they name)."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationFailed(
            _("不支持修改的字段"), fields={n: [_("不允许修改此字段")] for n in sorted(unknown)}
        )
    locked = _lock(ticket)
    if locked.status_category == StatusCategory.CLOSED:
        raise ValidationFailed.for_field("status", _("工单已关闭，请先重新打开"))
    errors: dict[str, list[str]] = {}
    if "subject" in changes and not str(changes["subject"] or "").strip():
        errors["subject"] = [_("主题不能为空")]
    elif "subject" in changes and len(str(changes["subject"]).strip()) > 200:
        errors["subject"] = [_("主题不能超过 200 字")]
    team = changes.get("team", locked.team)
    errors.update(
        _handling_errors(
            actor=actor,
            team=team,
            team_chosen="team" in changes and team != locked.team,
            assignee=changes.get("assignee") if changes.get("assignee") != locked.assignee else None,
        )
    )
    contact = changes.get("contact")
    if contact is not None and locked.customer_id is not None and contact.customer_id != locked.customer_id:
        errors["contact"] = [_("联系人不属于该客户")]
    if "type" in changes:
        _choice(changes["type"], TicketType, "type", errors)
    if "priority" in changes:
        _choice(changes["priority"], Priority, "priority", errors)
    category = changes.get("category", locked.category)
    custom = changes.get("custom_fields", locked.custom_fields)
    if "category" in changes or "custom_fields" in changes:
        try:
            custom = validate_custom_fields(category, custom)
        except ValidationFailed as exc:
            errors.update(exc.fields)
    if errors:
        raise ValidationFailed(_("工单信息有误"), fields=errors)
    before = audit.snapshot(locked, EDITABLE)
    for name, value in changes.items():
        setattr(locked, name, value.strip() if isinstance(value, str) else value)
    locked.custom_fields = custom
    diff = audit.diff(before, locked)
    wanted: list[str] = []
    current: list[str] = []
    if waybills is not None:
        wanted = waybills_clean(waybills)
        current = sorted(locked.waybills.values_list("waybill_no", flat=True))
        if sorted(wanted) != current:
            diff["waybills"] = [current, sorted(wanted)]
    # Only what this edit changes can conflict; tags are added and removed, never overwritten.
    _check_version(locked, version, fields=diff.keys(), actor=actor)
    added, removed = _set_tags(locked, add=add_tags, remove=remove_tags)
    if added or removed:
        diff["tags"] = [removed, added]
    if "waybills" in diff:
        locked.waybills.exclude(waybill_no__in=wanted).delete()
        TicketWaybill.objects.bulk_create(
            [TicketWaybill(ticket=locked, waybill_no=w) for w in wanted if w not in current]
        )
    if diff:
        _reindex(locked)
        _touch(locked, [*EDITABLE, "search_text", "internal_search_text"])
        audit.record(actor=actor, action=AuditAction.UPDATE, obj=locked, changes=_versioned(diff, locked))
    return locked


@transaction.atomic
def ticket_assign(
    *, actor: Any, ticket: Ticket, assignee: User | None, team: Team | None = None, version: int | None = None
) -> Ticket:
    """Give the ticket to ``assignee`` (and ``team``), as :func:`assignable_users` and
    :func:`movable_teams` allow ``actor``; a new ticket becomes open."""
    changes: dict[str, Any] = {"assignee": assignee}
    if team is not None:
        changes["team"] = team
    updated = ticket_update(actor=actor, ticket=ticket, version=version, changes=changes)
    if assignee is not None and updated.status_category == StatusCategory.NEW:
        updated = _move(actor=actor, ticket=updated, status=default_status(StatusCategory.OPEN))
    if assignee is not None and assignee != actor:
        _notify_about(
            ticket=updated,
            users=[assignee],
            kind="assigned",
            actor=actor,
            key=f"assigned:{updated.pk}:{updated.version}",
        )
    return updated


# --- lifecycle ------------------------------------------------------------------------------------


def _move(
    *,
    actor: Any,
    ticket: Ticket,
    status: Status,
    extra: Mapping[str, Any] | None = None,
    save_also: Sequence[str] = (),
) -> Ticket:
    """Precondition: ``ticket`` is row-locked. Apply an allowed status change and audit it;
    ``save_also`` names fields the caller already set on ``ticket`` that are saved with it (one
    version bump) but are not part of the status change's audit event."""
    fields = ["status", "status_category", *(extra or {})]
    before = audit.snapshot(ticket, fields)
    ticket.status = status
    ticket.status_category = status.category
    for name, value in (extra or {}).items():
        setattr(ticket, name, value)
    _touch(ticket, list(dict.fromkeys([*fields, *save_also])))
    audit.record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=ticket,
        changes=_versioned(audit.diff(before, ticket), ticket),
    )
    return ticket


def _reopen(*, actor: Any, ticket: Ticket, save_also: Sequence[str] = ()) -> Ticket:
    """Precondition: ``ticket`` is row-locked, resolved or closed. Back to open through the workflow:
    the resolution and the close (summary, satisfaction, reason, note) no longer hold, so they are
    cleared — the audit event keeps their old values."""
    workflow.check_transition(ticket.status_category, StatusCategory.OPEN)
    return _move(
        actor=actor,
        ticket=ticket,
        status=default_status(StatusCategory.OPEN),
        extra={
            "reopened_count": ticket.reopened_count + 1,
            "resolved_at": None,
            "closed_at": None,
            "solution_summary": "",
            "satisfaction_confirmed": None,
            "close_reason": "",
            "close_note": "",
        },
        save_also=save_also,
    )


@transaction.atomic
def ticket_transition(*, actor: Any, ticket: Ticket, status: Status, version: int | None = None) -> Ticket:
    """Move to an open, pending or new status. Resolving, closing and reopening have their own services
    because they need more than a status (a summary, a confirmation, the reopen window)."""
    locked = _lock(ticket)
    _check_version(locked, version, fields=("status",), actor=actor)
    if status.category in (StatusCategory.RESOLVED, StatusCategory.CLOSED):
        raise ValidationFailed.for_field("status", _("请使用“解决”或“关闭”操作"))
    if locked.status_category in (StatusCategory.RESOLVED, StatusCategory.CLOSED):
        raise ValidationFailed.for_field("status", _("请使用“重新打开”操作"))
    workflow.check_transition(locked.status_category, status.category)
    return _move(actor=actor, ticket=locked, status=status)


@transaction.atomic
def ticket_resolve(
    *, actor: Any, ticket: Ticket, solution_summary: str, version: int | None = None
) -> Ticket:
    locked = _lock(ticket)
    _check_version(locked, version, fields=("status", "solution_summary"), actor=actor)
    summary = solution_summary.strip()
    if not summary:
        raise ValidationFailed.for_field("solution_summary", _("解决工单需要填写解决方案摘要"))
    workflow.check_transition(locked.status_category, StatusCategory.RESOLVED)
    open_mandatory = locked.subtasks.filter(mandatory=True).exclude(status__in=("done", "cancelled"))
    if open_mandatory.exists():
        titles = _("、").join(open_mandatory.values_list("title", flat=True))
        raise ValidationFailed.for_field(
            "subtasks", _("还有必须完成的协作单未完成：%(titles)s") % {"titles": titles}
        )
    return _move(
        actor=actor,
        ticket=locked,
        status=default_status(StatusCategory.RESOLVED),
        extra={"solution_summary": summary, "resolved_at": timezone.now()},
    )


@transaction.atomic
def ticket_close(
    *,
    actor: Any,
    ticket: Ticket,
    satisfaction_confirmed: bool,
    reason: str = CloseReason.CONFIRMED,
    note: str = "",
    version: int | None = None,
) -> Ticket:
    """Close a resolved ticket: the customer confirmed satisfaction, or the reason why not
    (e.g. unreachable after N attempts, with the attempts in ``note``)."""
    locked = _lock(ticket)
    _check_version(locked, version, fields=("status",), actor=actor)
    workflow.check_transition(locked.status_category, StatusCategory.CLOSED)
    if not satisfaction_confirmed and (reason == CloseReason.CONFIRMED or reason not in CloseReason.values):
        raise ValidationFailed.for_field("reason", _("客户未确认满意时需要说明原因"))
    if not satisfaction_confirmed and not note.strip():
        raise ValidationFailed.for_field("note", _("请记录未确认满意的情况（例如联系了几次）"))
    return _move(
        actor=actor,
        ticket=locked,
        status=default_status(StatusCategory.CLOSED),
        extra={
            "satisfaction_confirmed": satisfaction_confirmed,
            "close_reason": CloseReason.CONFIRMED if satisfaction_confirmed else reason,
            "close_note": note.strip()[:255],
            "closed_at": timezone.now(),
        },
    )


@transaction.atomic
def ticket_reopen(*, actor: Any, ticket: Ticket, reason: str) -> Ticket:
    """Reopen a resolved ticket, or a closed one within ``KEFU_REOPEN_WINDOW_DAYS``. After the window a
    new ticket is opened, linked to the old one, and returned instead."""
    from kefu.tickets.models import TicketLink

    locked = _lock(ticket)
    if locked.status_category not in (StatusCategory.RESOLVED, StatusCategory.CLOSED):
        raise ValidationFailed.for_field("status", _("只有已解决或已关闭的工单可以重新打开"))
    if locked.merged_into_id is not None:
        raise ValidationFailed.for_field("status", _("已合并的工单不能重新打开"))
    window = dt.timedelta(days=settings.KEFU_REOPEN_WINDOW_DAYS)
    if (
        locked.status_category == StatusCategory.CLOSED
        and locked.closed_at
        and timezone.now() - locked.closed_at > window
    ):
        follow_up = ticket_create(
            actor=actor,
            data=TicketData(
                subject=locked.subject,
                description=reason or locked.description,
                channel=locked.channel,
                type=locked.type,
                category=locked.category,
                priority=locked.priority,
                customer=locked.customer,
                contact=locked.contact,
                team=locked.team,
                assignee=locked.assignee if locked.assignee and locked.assignee.is_active else None,
                custom_fields=locked.custom_fields,
                waybills=list(locked.waybills.values_list("waybill_no", flat=True)),
            ),
            origin=locked,
        )
        TicketLink.objects.create(source=follow_up, target=locked, kind="follow_up", created_by=_user(actor))
        return follow_up
    reopened = _reopen(actor=actor, ticket=locked)
    if reason.strip():
        message_add(actor=actor, ticket=reopened, body=reason, visibility=Visibility.INTERNAL)
    return reopened


def _require_resolved(ticket: Ticket) -> None:
    if ticket.status_category != StatusCategory.RESOLVED:
        raise ValidationFailed.for_field("status", _("只有已解决的工单可以确认或拒绝"))


def resolution_accept(*, actor: Any, ticket: Ticket) -> Ticket:
    """The customer confirms a resolved ticket is solved: it closes, satisfied."""
    _require_resolved(ticket)
    return ticket_close(actor=actor, ticket=ticket, satisfaction_confirmed=True)


@transaction.atomic
def resolution_reject(*, actor: Any, ticket: Ticket, reason: str) -> Ticket:
    """The customer says a resolved ticket is not solved: it reopens, and their reason (required — the
    agent needs to know what is still wrong) is a public customer message, not the internal note
    ``ticket_reopen`` writes for staff reasons. Both or neither."""
    _require_resolved(ticket)
    if not reason.strip():
        raise ValidationFailed.for_field("reason", _("请说明问题还没有解决的原因"))
    reopened = ticket_reopen(actor=actor, ticket=ticket, reason="")
    message_add(
        actor=actor,
        ticket=reopened,
        body=reason,
        visibility=Visibility.PUBLIC,
        author_kind=AuthorKind.CUSTOMER,
        customer_notice="resolution_rejected",
    )
    reopened.refresh_from_db()
    return reopened


def _user(actor: Any) -> User | None:
    return actor if isinstance(actor, User) else None


# --- conversation ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttachmentLimits:
    max_bytes: int
    allowed_types: frozenset[str]


def attachment_limits() -> AttachmentLimits:
    return AttachmentLimits(
        max_bytes=settings.KEFU_ATTACHMENT_MAX_BYTES, allowed_types=frozenset(settings.KEFU_ATTACHMENT_TYPES)
    )


def _check_attachment(upload: File[Any]) -> str:
    import mimetypes

    limits = attachment_limits()
    name = upload.name or "file"
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if content_type not in limits.allowed_types:
        raise ValidationFailed.for_field(
            "attachments", _("不允许的附件类型：%(name)s（%(type)s）") % {"name": name, "type": content_type}
        )
    if (upload.size or 0) > limits.max_bytes:
        raise ValidationFailed.for_field(
            "attachments",
            _("附件 %(name)s 超过上限 %(limit)s MB")
            % {"name": name, "limit": limits.max_bytes // (1024 * 1024)},
        )
    return content_type


@transaction.atomic
def message_add(
    *,
    actor: Any,
    ticket: Ticket,
    body: str,
    visibility: str,
    author_kind: str = AuthorKind.AGENT,
    contact: Contact | None = None,
    attachments: Sequence[File[Any]] = (),
    seen_version: int | None = None,
    customer_notice: str = "customer_reply",
) -> Message:
    """Add a public reply or an internal note. A reply composed while the ticket changed in a way that
    matters to it (``seen_version`` older than a status change or another person's message) is held:
    Conflict naming the change, nothing sent. A customer's message notifies the assignee
    (``customer_notice`` is the kind: ``resolution_reject`` says "rejected" instead of "replied")."""
    locked = _lock(ticket)
    _check_version(locked, seen_version, fields=("status", "messages"), actor=actor)
    if visibility not in Visibility.values:
        raise ValidationFailed.for_field("visibility", _("取值 %(value)r 无效") % {"value": visibility})
    if author_kind in (AuthorKind.CUSTOMER,) and visibility != Visibility.PUBLIC:
        raise ValidationFailed.for_field("visibility", _("客户不能添加内部备注"))
    if locked.status_category == StatusCategory.CLOSED and visibility == Visibility.PUBLIC:
        raise ValidationFailed.for_field("status", _("工单已关闭，不能再回复；请重新打开或新建工单"))
    safe = text.sanitize(body.strip())
    plain = text.to_text(safe)
    if not plain and not attachments:
        raise ValidationFailed.for_field("body", _("内容不能为空"))
    if len(body) > 50_000:
        raise ValidationFailed.for_field("body", _("内容不能超过 50000 字"))
    types = [_check_attachment(upload) for upload in attachments]
    message = Message.objects.create(
        ticket=locked,
        author_kind=author_kind,
        author=_user(actor),
        contact=contact,
        visibility=visibility,
        body_html=safe,
        body_text=plain,
        ticket_version=locked.version + 1,  # the version _touch below gives the ticket
    )
    for upload, content_type in zip(attachments, types, strict=True):
        Attachment.objects.create(
            message=message,
            file=upload,
            name=(upload.name or "file")[:255],
            size=upload.size or 0,
            content_type=content_type,
        )
    mentioned = list(
        User.objects.filter(username__in=text.MENTION.findall(plain), is_active=True).exclude(role="customer")
    )
    if mentioned:
        message.mentions.set(mentioned)
        _notify_about(
            ticket=locked,
            users=[u for u in mentioned if u != actor],
            kind="mention",
            actor=actor,
            key=f"mention:{message.pk}",
            anchor=f"#m{message.pk}",
        )
    fields = ["search_text", "internal_search_text"]
    added = text.tokens(plain)
    if visibility == Visibility.PUBLIC:
        locked.internal_search_text = text.without(locked.internal_search_text, added)
    else:
        locked.internal_search_text = text.internal_only(
            search_text=locked.search_text,
            internal_search_text=locked.internal_search_text,
            note_tokens=added,
        )
    locked.search_text = f"{locked.search_text} {added}".strip()
    if (
        visibility == Visibility.PUBLIC
        and author_kind == AuthorKind.AGENT
        and locked.first_response_at is None
    ):
        locked.first_response_at = message.created_at
        fields.append("first_response_at")
    # The customer answered: the ticket needs the agent again — after a resolution, that is a reopen.
    if author_kind == AuthorKind.CUSTOMER and locked.status_category == StatusCategory.RESOLVED:
        _reopen(actor=actor, ticket=locked, save_also=fields)
    elif author_kind == AuthorKind.CUSTOMER and locked.status_category == StatusCategory.PENDING:
        workflow.check_transition(locked.status_category, StatusCategory.OPEN)
        _move(actor=actor, ticket=locked, status=default_status(StatusCategory.OPEN), save_also=fields)
    else:
        _touch(locked, fields)
    audit.record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=message,
        changes={"ticket": [None, locked.number], "visibility": [None, visibility]},
    )
    if author_kind == AuthorKind.CUSTOMER and locked.assignee is not None:
        _notify_about(
            ticket=locked,
            users=[locked.assignee],
            kind=customer_notice,
            actor=actor,
            key=f"customer_reply:{message.pk}",
            anchor=f"#m{message.pk}",
        )
    return message
