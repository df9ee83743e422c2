"""Who acts: a signed-in person (a ``User``) or one of the tagged actors that are not a person.

An actor is ``User | SystemActor`` (``kefu.accounts.actors.Actor``; this layer only knows Django's user
base class). A person is a staff or portal user; one that came in with an API token carries the token
(``User.authenticated_by_token``, set by ``token_authenticate``), so the audit log records the
integration. Everything else is a frozen :class:`SystemActor` made here — :data:`SYSTEM`, :data:`BOT`,
:func:`cli`, :func:`automation_rule` — never a string or ``None``: :func:`kind_and_label` refuses
anything else, and mypy refuses it first.
"""

from __future__ import annotations

import dataclasses

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser

from kefu.core.models import ActorKind

PERSON_KINDS = frozenset({ActorKind.USER, ActorKind.CUSTOMER, ActorKind.TOKEN})


@dataclasses.dataclass(frozen=True)
class SystemActor:
    """An actor that is not a signed-in person: the system (a worker task, a migration, the demo
    seeder), the command line, an automation rule, the bot. ``label`` is what the audit log shows."""

    kind: ActorKind
    label: str

    def __post_init__(self) -> None:
        if not isinstance(self.kind, ActorKind) or self.kind in PERSON_KINDS:
            raise TypeError(f"{self.kind!r} is the kind of a person: pass the User, not a SystemActor")
        if not self.label:
            raise TypeError("a SystemActor needs a label")


SYSTEM = SystemActor(ActorKind.SYSTEM, "system")
"""Background work no person asked for at that moment (worker tasks, housekeeping, the demo seeder)."""

BOT = SystemActor(ActorKind.BOT, "bot")


def cli(command: str) -> SystemActor:
    """A ``kefu <command>`` run on the server's command line (recorded as the system, naming the command)."""
    return SystemActor(ActorKind.SYSTEM, f"cli: kefu {command}"[:150])


def automation_rule(label: str) -> SystemActor:
    """An automation rule acting on its own (e.g. a problem's incident rule linking a new ticket)."""
    return SystemActor(ActorKind.RULE, label[:150])


AnyActor = AbstractBaseUser | AnonymousUser | SystemActor
"""What the audit log accepts: any user object (the admin passes ``request.user``) or a system actor.
Services take the narrower ``kefu.accounts.actors.Actor``."""


def kind_and_label(actor: AnyActor) -> tuple[ActorKind, str]:
    """The audit log's kind and label of ``actor``; ``TypeError`` for anything that is not an actor."""
    if isinstance(actor, SystemActor):
        return actor.kind, actor.label
    if isinstance(actor, AnonymousUser):
        return ActorKind.USER, "anonymous"
    if not isinstance(actor, AbstractBaseUser):
        raise TypeError(f"not an actor: {actor!r} (a User or a kefu.core.actors.SystemActor)")
    name = getattr(actor, "get_full_name", lambda: "")() or actor.get_username()
    if getattr(actor, "authenticated_by_token", None) is not None:
        return ActorKind.TOKEN, name
    return (ActorKind.CUSTOMER if getattr(actor, "is_portal_user", False) else ActorKind.USER), name
