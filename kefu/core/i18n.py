"""Reference data in two languages. Administrators name categories, statuses, custom fields and their
choices, teams, skills, segments and tags in Chinese (``name``, stored and matched) and in English
(``name_en``, shown on English pages; empty falls back to the Chinese name). Models show themselves with
:func:`pick` in ``__str__``, so every page, form and select shows the reader's language without each
template asking for it; the audit log stores the site language's form (:func:`canonical`) and shows it
in the reader's language (``kefu.core.web.audit_for_display``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from django.conf import settings
from django.utils import translation

T = TypeVar("T")


def in_english() -> bool:
    return (translation.get_language() or "").startswith("en")


def pick(zh: Any, en: Any) -> str:
    """``en`` on an English page when it is set, else ``zh``."""
    return str(en) if en and in_english() else str(zh)


@contextmanager
def site_language() -> Iterator[None]:
    """Run in the site's language (``LANGUAGE_CODE``): what is stored must not depend on the language of
    the request that caused it."""
    with translation.override(settings.LANGUAGE_CODE):
        yield


def canonical(render: Callable[[], T]) -> T:
    """``render()`` in the site's language."""
    with site_language():
        return render()
