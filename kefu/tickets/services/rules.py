"""The desk's rules, each a question a page may ask before writing and the services ask themselves: who may
handle a ticket (assignee, team), what a customer may set on a new ticket, the category's custom fields."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from kefu.accounts.models import Team, User
from kefu.accounts.roles import HANDLING_ROLES
from kefu.core import reference
from kefu.core.errors import ValidationFailed
from kefu.tickets.access import has_wide_scope
from kefu.tickets.enums import FieldKind, TicketType
from kefu.tickets.models import Category, CustomField


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


def handling_errors(
    *, actor: Any, team: Team | None, team_chosen: bool, assignee: User | None
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if team is not None and team_chosen and (problems := team_errors(actor=actor, team=team)):
        errors["team"] = problems
    if assignee is not None and (problems := assignee_errors(actor=actor, team=team, assignee=assignee)):
        errors["assignee"] = problems
    return errors


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
