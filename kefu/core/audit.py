"""Writing and reading the audit log. Services call :func:`record` inside their own transaction, so an
audit row exists exactly when the change it describes was committed."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import QuerySet

from kefu.core.actors import AnyActor, kind_and_label
from kefu.core.i18n import canonical
from kefu.core.models import ActorKind, AuditAction, AuditEvent

Changes = dict[str, list[Any]]


def plain(value: Any) -> Any:
    """Make a field value JSON-friendly and readable in the timeline."""
    if isinstance(value, models.Model):
        return canonical(lambda: str(value))  # reference data names itself in the reader's language
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple | set | frozenset):
        return (
            sorted(str(v) for v in value) if isinstance(value, set | frozenset) else [plain(v) for v in value]
        )
    return value


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The current values of ``fields``: take one before a change and pass it to :func:`diff`."""
    return {name: plain(getattr(instance, name)) for name in fields}


def diff(before: Mapping[str, Any], instance: models.Model) -> Changes:
    """``{field: [old, new]}`` for every field of ``before`` whose value changed on ``instance``."""
    changes: Changes = {}
    for name, old in before.items():
        new = plain(getattr(instance, name))
        if new != old:
            changes[name] = [old, new]
    return changes


def actor_of(actor: AnyActor) -> tuple[AbstractBaseUser | None, ActorKind, str]:
    """(the person or None, actor kind, label) of an actor (``kefu.core.actors``)."""
    kind, label = kind_and_label(actor)
    return (actor if isinstance(actor, AbstractBaseUser) else None), kind, label


def record(
    *,
    actor: AnyActor,
    action: AuditAction | str,
    obj: models.Model,
    changes: Mapping[str, Any] | None = None,
) -> AuditEvent:
    user, kind, label = actor_of(actor)
    return AuditEvent.objects.create(
        actor=user,  # type: ignore[misc]  # the user model (AUTH_USER_MODEL), which core does not import
        actor_kind=kind,
        actor_label=label[:150],
        action=action,
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=True),
        object_id=str(obj.pk),
        object_repr=canonical(lambda: str(obj))[:200],
        changes=dict(changes or {}),
    )


def record_created(*, actor: AnyActor, obj: models.Model, fields: Iterable[str]) -> AuditEvent:
    return record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=obj,
        changes={name: [None, value] for name, value in snapshot(obj, fields).items()},
    )


def events_for(obj: models.Model, *, related: Iterable[models.Model] = ()) -> QuerySet[AuditEvent]:
    """The audit trail of ``obj`` (and of ``related`` records shown with it), newest first."""
    query = models.Q()
    for item in (obj, *related):
        ct = ContentType.objects.get_for_model(item, for_concrete_model=True)
        query |= models.Q(content_type=ct, object_id=str(item.pk))
    return AuditEvent.objects.filter(query).select_related("actor", "content_type").order_by("-at", "-id")


def recent_events(*, limit: int = 50) -> list[AuditEvent]:
    return list(AuditEvent.objects.select_related("actor", "content_type").order_by("-at", "-id")[:limit])
