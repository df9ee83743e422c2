"""Waybill numbers (运单号): one normaliser and validator for every path that takes one — the ticket
services (console, portal, API, e-mail), incidents linked by waybill, incident rules, the ``waybill``
filter of every ticket list and the full-text search.

People type waybill numbers the way the label prints them — ``SF 1234 5678 9012``, ``sf-1234-5678-9012``,
in full-width characters from a Chinese input method — and kefu stores one form: the letters and digits,
upper case (``SF123456789012``). What is left must look like a carrier's number: 8–40 ASCII letters and
digits, at least 6 of them digits. That refuses ``1``, ``ABC`` and ``运单123`` with an error naming the
field, instead of storing a number no carrier will ever find.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from django.utils.translation import gettext as _

from kefu.core.errors import ValidationFailed

MIN_LENGTH = 8
MAX_LENGTH = 40
MIN_DIGITS = 6
# What people put between the groups of a waybill number (after NFKC: full-width forms are ASCII).
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―_.·]+")
_VALID = re.compile(rf"[A-Z0-9]{{{MIN_LENGTH},{MAX_LENGTH}}}")
# How a text field lists several numbers: commas, semicolons, 、 and line breaks (not spaces, which
# belong to one number: "SF 1234 5678 9012").
_LIST_SEPARATORS = re.compile(r"[,，;；、\r\n]+")


def normalized(raw: str) -> str:
    """``raw`` in the stored form (no separators, upper case), whether or not it is valid."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", raw)).upper()


def is_valid(number: str) -> bool:
    """Whether a normalised number looks like a carrier's waybill number."""
    return bool(_VALID.fullmatch(number)) and sum(c.isdigit() for c in number) >= MIN_DIGITS


def waybill_clean(raw: str, *, field: str = "waybills") -> str:
    """The stored form of one waybill number; :class:`ValidationFailed` naming ``field`` otherwise."""
    number = normalized(raw)
    if not is_valid(number):
        raise ValidationFailed.for_field(field, invalid_message(raw))
    return number


def waybills_clean(raws: Iterable[str], *, field: str = "waybills") -> list[str]:
    """Each number in its stored form, blanks skipped, duplicates once, in the given order; every invalid
    number is named in one error on ``field``."""
    cleaned: list[str] = []
    errors: list[str] = []
    for raw in raws:
        if not raw or not raw.strip():
            continue
        number = normalized(raw)
        if is_valid(number):
            cleaned.append(number)
        else:
            errors.append(invalid_message(raw))
    if errors:
        raise ValidationFailed(errors[0], fields={field: errors})
    return list(dict.fromkeys(cleaned))


def split(value: str) -> list[str]:
    """The numbers typed into one text field (a form's 运单号 box): separated by commas, semicolons, 、 or
    line breaks; spaces inside a number stay with it."""
    return [part.strip() for part in _LIST_SEPARATORS.split(value) if part.strip()]


# A search that is one waybill number as printed on a label: an optional carrier prefix, then digits in
# groups ("SF 1234 5678 9012", "1234-5678-9012"). Words with digits ("delay 12345678") are not one.
_TYPED_NUMBER = re.compile(r"[A-Za-z]{0,6}[\s\-]*[0-9][0-9\s\-]*")


def typed_number(query: str) -> str | None:
    """The stored form of ``query`` when the query is one waybill number as typed, else ``None``."""
    text = unicodedata.normalize("NFKC", query).strip()
    if not _TYPED_NUMBER.fullmatch(text):
        return None
    number = normalized(text)
    return number if is_valid(number) else None


def invalid_message(raw: str) -> str:
    return _(
        "运单号“%(number)s”无效：应为 %(min)s–%(max)s 位字母和数字（可含空格或 -），至少 %(digits)s 位数字"
    ) % {
        "number": raw.strip()[:60],
        "min": MIN_LENGTH,
        "max": MAX_LENGTH,
        "digits": MIN_DIGITS,
    }
