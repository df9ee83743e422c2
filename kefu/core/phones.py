"""Phone numbers: parse what people type, store E.164, search by the trailing digits ("尾号")."""

from __future__ import annotations

import phonenumbers
from django.utils.translation import gettext as _

from kefu.core.errors import ValidationFailed

DEFAULT_REGION = "CN"


def normalize_phone(raw: str, *, field: str = "phone") -> str:
    """``138 1234 5678`` / ``+86-138-1234-5678`` / ``021-6888 8888`` → E.164 (``+8613812345678``).

    Raises ValidationFailed naming ``field`` for anything that is not a valid number.
    """
    text = (raw or "").strip()
    if not text:
        return ""
    try:
        number = phonenumbers.parse(text, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        raise ValidationFailed.for_field(field, _("电话号码无效：%(phone)s") % {"phone": text}) from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationFailed.for_field(field, _("电话号码无效：%(phone)s") % {"phone": text})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display_phone(e164: str) -> str:
    """National format for Chinese numbers (``138 1234 5678``), international for the rest."""
    if not e164:
        return ""
    if len(e164) == 14 and e164.startswith("+861"):
        # Mainland mobiles are most numbers on every list page; formatting them needs no parse.
        return f"{e164[3:6]} {e164[6:10]} {e164[10:]}"
    try:
        number = phonenumbers.parse(e164, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return e164
    fmt = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if number.country_code == 86
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, fmt)


def reversed_digits(e164: str) -> str:
    """Digits reversed, so "ends with 5678" becomes an indexable prefix match on ``8765``."""
    return "".join(c for c in e164 if c.isdigit())[::-1]
