"""Template helpers of the ticket pages."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def lookup(mapping: Any, key: str) -> Any:
    """``values|lookup:name`` for a dict or a QueryDict (its last value); empty when missing."""
    if mapping is None:
        return ""
    getter = getattr(mapping, "get", None)
    value = getter(key, "") if getter else ""
    return "" if value is None else value


@register.filter
def field_label(spec: Any) -> str:
    """A custom field's label in the page's language."""
    return str(spec.localized_label)


@register.filter
def choice_label(value: Any, spec: Any) -> str:
    """``value|choice_label:spec``: a stored choice of a custom field in the page's language."""
    return spec.choice_label(value) if spec is not None else str(value)
