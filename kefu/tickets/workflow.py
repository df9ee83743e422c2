"""The ticket lifecycle in one place: which status categories may follow which."""

from __future__ import annotations

from django.utils.translation import gettext as _

from kefu.core.errors import ValidationFailed
from kefu.tickets.enums import StatusCategory as S

TRANSITIONS: dict[str, frozenset[str]] = {
    S.NEW: frozenset({S.OPEN, S.PENDING, S.RESOLVED}),
    S.OPEN: frozenset({S.OPEN, S.PENDING, S.RESOLVED}),
    S.PENDING: frozenset({S.OPEN, S.PENDING, S.RESOLVED}),
    # Leaving resolved for open is a reopen; closing needs the customer's confirmation or a reason.
    S.RESOLVED: frozenset({S.OPEN, S.CLOSED}),
    # Reopening a closed ticket is only possible within the reopen window (services.reopening.ticket_reopen).
    S.CLOSED: frozenset({S.OPEN}),
}


def check_transition(current: str, target: str) -> None:
    """Raise ValidationFailed (field ``status``) if ``current`` → ``target`` is not allowed."""
    if target not in TRANSITIONS.get(current, frozenset()):
        labels = dict(S.choices)
        raise ValidationFailed.for_field(
            "status",
            _("不能从“%(current)s”变为“%(target)s”") % {"current": labels[current], "target": labels[target]},
        )


def is_terminal(category: str) -> bool:
    return category in (S.RESOLVED, S.CLOSED)
