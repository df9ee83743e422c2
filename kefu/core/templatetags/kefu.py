"""Template helpers shared by every app."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import get_language

register = template.Library()


@register.filter
def localized(obj: Any) -> str:
    """Configuration rows carry ``name`` (zh-hans) and ``name_en``: show the one for the page's language."""
    name_en = getattr(obj, "name_en", "")
    if name_en and (get_language() or "").startswith("en"):
        return str(name_en)
    return str(getattr(obj, "name", obj))
