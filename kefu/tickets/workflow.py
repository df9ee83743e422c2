"""The ticket lifecycle in one place: which status categories may follow which."""

from __future__ import annotations

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


# A merge closes its duplicate wherever it stands: the duplicate was never resolved, and resolve → close
# would force a fake solution summary and customer confirmation on a ticket nobody works on any more.
DUPLICATE_CLOSES_FROM: frozenset[str] = frozenset({S.NEW, S.OPEN, S.PENDING, S.RESOLVED})


def allows(current: str, target: str, *, duplicate: bool = False) -> bool:
    """Whether a ticket may move from status category ``current`` to ``target``; ``duplicate``: the
    ticket is closed by a merge into its survivor."""
    if duplicate and target == S.CLOSED:
        return current in DUPLICATE_CLOSES_FROM
    return target in TRANSITIONS.get(current, frozenset())


def is_reopen(current: str, target: str) -> bool:
    """Leaving resolved or closed for an active category: the resolution and the close no longer hold."""
    return is_terminal(current) and not is_terminal(target)


def is_terminal(category: str) -> bool:
    return category in (S.RESOLVED, S.CLOSED)
