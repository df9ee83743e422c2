"""Helpers for HTML views: role checks that answer 403/404 the same way everywhere."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Model
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

from kefu.core.errors import KefuError, NotFound, PermissionDenied
from kefu.core.i18n import in_english, site_language
from kefu.core.masking import mask_phone
from kefu.core.models import AuditAction, AuditEvent
from kefu.core.phones import display_phone

View = TypeVar("View", bound=Callable[..., HttpResponseBase])


def staff_view(perm: str | None = None) -> Callable[[View], View]:
    """Signed-in staff only (portal users get 403); with ``perm``, that permission too.
    KefuErrors raised inside become the matching error page."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if getattr(user, "is_portal_user", False) or (perm and not user.has_perm(perm)):
                return render(request, "403.html", status=403)
            try:
                return view(request, *args, **kwargs)
            except NotFound as exc:
                raise Http404(exc.message) from exc
            except PermissionDenied:
                return render(request, "403.html", status=403)

        return wrapper  # type: ignore[return-value]

    return decorate


def portal_view(view: View) -> View:
    """Signed-in customer-portal users only."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not getattr(user, "is_portal_user", False) or getattr(user, "portal_account", None) is None:
            return render(request, "403.html", status=403)
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message) from exc

    return wrapper  # type: ignore[return-value]


def form_errors(exc: KefuError | None) -> dict[str, Any]:
    """A service error as every form's template reads it: ``error_summary`` (the message, or the
    error's ``__all__``) and ``field_errors`` (``{field: [messages]}``); both empty for ``None``, a form
    not sent yet or sent without error."""
    if exc is None:
        return {"error_summary": "", "field_errors": {}}
    fields = dict(getattr(exc, "fields", {}) or {})
    summary = fields.pop("__all__", None) or [exc.message]
    return {"error_summary": summary[0], "field_errors": fields}


# Personal data inside audit events, per (app_label, model_name), registered by the app that owns the
# model (:func:`register_personal_data`). The history shown to a viewer without
# ``customers.view_personal_data`` must not undo the masking of the page.
_PII_FIELDS: dict[tuple[str, str], dict[str, Callable[[str], str]]] = {}
_PII_REPR: dict[tuple[str, str], Callable[[str], str]] = {}
_NUMBER = re.compile(r"\+?\d{7,}")


def mask_stored_phone(value: str) -> str:
    """A stored (E.164) phone number masked as pages show it: ``138******78``."""
    return mask_phone(display_phone(value))


def mask_phone_numbers(text: str) -> str:
    """Every phone number inside ``text`` masked (a call log's ``str()`` names the number)."""
    return _NUMBER.sub(lambda match: mask_stored_phone(match.group()), text)


def register_personal_data(
    model: type[Model],
    *,
    fields: Mapping[str, Callable[[str], str]] | None = None,
    shown_as: Callable[[str], str] | None = None,
) -> None:
    """Which of ``model``'s audited fields hold personal data and how each is masked, and how its
    ``str()`` (kept as the event's ``object_repr``) is masked when it holds some — for
    :func:`audit_for_display`. Called by the owning app's ``AppConfig.ready()``."""
    key = (model._meta.app_label, model._meta.model_name or "")
    if fields:
        _PII_FIELDS[key] = dict(fields)
    if shown_as is not None:
        _PII_REPR[key] = shown_as


_PHONE_FIELDS = {"phone"}
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)?$")
EMPTY = "∅"


@dataclass(frozen=True)
class Change:
    label: str
    old: str
    new: str


def _field(model: type[Model] | None, name: str) -> Any:
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def _shown(
    value: Any,
    *,
    field: Any,
    name: str,
    mask: Callable[[str], str] | None,
    names: Mapping[str, str] | None = None,
) -> str:
    if value is None or value in ("", []):
        return EMPTY
    if isinstance(value, bool):
        return str(_("是") if value else _("否"))
    if isinstance(value, list):
        return _("、").join(_shown(v, field=None, name=name, mask=mask, names=names) for v in value)
    text = str(value)
    if mask:
        return mask(text)
    if names and text in names:
        return names[text]
    choices = dict(getattr(field, "flatchoices", None) or ())
    if text in choices:
        return str(choices[text])
    if name in _PHONE_FIELDS:
        return display_phone(text)
    if _ISO_DATETIME.match(text) and "T" in text:
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            return text
        return (localtime(moment) if moment.tzinfo else moment).strftime("%Y-%m-%d %H:%M")
    return text


def _reference_names(
    model: type[Model] | None, name: str, cache: dict[Any, dict[str, str]]
) -> dict[str, str]:
    """For a field pointing at bilingual reference data (a status, team, category, tag, …): the name the
    audit log stored (in the site language, kefu.core.i18n) → the name in the reader's language. Read
    once per model and call, on English pages only."""
    related = getattr(_field(model, name), "related_model", None)
    if related is None or not in_english() or not any(f.name == "name_en" for f in related._meta.fields):
        return {}
    if related not in cache:
        rows = list(related._default_manager.all())
        with site_language():
            stored = [str(row) for row in rows]
        cache[related] = {name: str(row) for name, row in zip(stored, rows, strict=True)}
    return cache[related]


def audit_for_display(
    events: Iterable[AuditEvent], *, reveal: bool, labels: Mapping[str, Any] | None = None
) -> list[AuditEvent]:
    """Events ready for a timeline. Each gets ``shown_changes``: a list of :class:`Change` labelled with
    the field's verbose name (or, for a change that is no model field, its name's entry in ``labels``)
    and showing choice labels, local times and formatted phone numbers; fields left empty on both
    sides are left out. Unless ``reveal``, personal data (contact names, phones, e-mail, WeChat ids,
    addresses) is masked exactly as on the page itself."""
    labels = labels or {}
    shown: list[AuditEvent] = []
    reference_names: dict[Any, dict[str, str]] = {}
    for event in events:
        content_type = event.content_type
        key = (content_type.app_label, content_type.model)
        model = content_type.model_class()
        masks = {} if reveal else _PII_FIELDS.get(key, {})
        changes: list[Change] = []
        if event.action != AuditAction.VIEW_PII and isinstance(event.changes, dict):
            for name, pair in event.changes.items():
                old, new = [*pair, None, None][:2] if isinstance(pair, list | tuple) else (None, pair)
                field = _field(model, name)
                names = _reference_names(model, name, reference_names)
                before = _shown(old, field=field, name=name, mask=masks.get(name), names=names)
                after = _shown(new, field=field, name=name, mask=masks.get(name), names=names)
                if before == after == EMPTY:
                    continue
                label = str(getattr(field, "verbose_name", name)) if field is not None else name
                label = str(labels[label]) if label in labels else label
                changes.append(Change(label, before, after))
        if not reveal and key in _PII_REPR:
            event.object_repr = _PII_REPR[key](event.object_repr)
        event.shown_changes = changes  # type: ignore[attr-defined]
        shown.append(event)
    return shown
