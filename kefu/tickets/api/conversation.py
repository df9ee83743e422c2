"""The conversation: messages (customers see public ones only), replies, internal notes, attachments."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import File, Form, UploadedFile

from kefu.core.errors import PermissionDenied
from kefu.tickets import selectors
from kefu.tickets.access import access_ticket, require_agent_write
from kefu.tickets.api.common import (
    is_portal,
    message_out,
    router,
)
from kefu.tickets.api.schemas import (
    MessageIn,
    MessageOut,
)
from kefu.tickets.enums import AuthorKind, Visibility
from kefu.tickets.services.messages import message_add

# --- conversation ---------------------------------------------------------------------------------


@router.get("/{ref}/messages", response=list[MessageOut], summary="The conversation (customers: public only)")
def list_messages(request: HttpRequest, ref: str) -> list[dict[str, Any]]:
    ticket = access_ticket(request.user, ref)
    portal = is_portal(request.user)
    items = selectors.ticket_timeline(ticket, for_customer=portal)
    # Belt and braces: whatever the selector returns, a customer path never carries an internal note.
    return [
        message_out(item.message, portal=portal)
        for item in items
        if item.message is not None and not (portal and item.message.visibility != Visibility.PUBLIC)
    ]


def _author_kind(user: Any) -> str:
    return AuthorKind.CUSTOMER if is_portal(user) else AuthorKind.AGENT


def _require_may_reply(user: Any) -> None:
    if not is_portal(user):
        require_agent_write(user)


@router.post("/{ref}/replies", response={201: MessageOut}, summary="Reply publicly (staff or customer)")
def add_reply(request: HttpRequest, ref: str, payload: MessageIn) -> dict[str, Any]:
    ticket = access_ticket(request.user, ref)
    _require_may_reply(request.user)
    message = message_add(
        actor=request.user,
        ticket=ticket,
        body=payload.body,
        visibility=Visibility.PUBLIC,
        author_kind=_author_kind(request.user),
        seen_version=payload.seen_version,
    )
    return message_out(message, portal=is_portal(request.user))


@router.post("/{ref}/notes", response={201: MessageOut}, summary="Add an internal note (staff only)")
def add_note(request: HttpRequest, ref: str, payload: MessageIn) -> dict[str, Any]:
    ticket = access_ticket(request.user, ref)
    if is_portal(request.user):
        raise PermissionDenied(_("客户不能添加内部备注"))
    require_agent_write(request.user)
    message = message_add(
        actor=request.user,
        ticket=ticket,
        body=payload.body,
        visibility=Visibility.INTERNAL,
        seen_version=payload.seen_version,
    )
    return message_out(message, portal=False)


@router.post(
    "/{ref}/attachments",
    response={201: MessageOut},
    summary="Upload files (multipart: files, optional body, visibility, seen_version)",
)
def add_attachments(
    request: HttpRequest,
    ref: str,
    *,
    files: File[list[UploadedFile]],
    body: Form[str] = "",
    visibility: Form[Visibility] = Visibility.PUBLIC,
    seen_version: Form[int | None] = None,
) -> dict[str, Any]:
    ticket = access_ticket(request.user, ref)
    portal = is_portal(request.user)
    _require_may_reply(request.user)
    if portal and visibility != Visibility.PUBLIC:
        raise PermissionDenied(_("客户不能添加内部备注"))
    message = message_add(
        actor=request.user,
        ticket=ticket,
        body=body,
        visibility=visibility,
        author_kind=_author_kind(request.user),
        attachments=files,
        seen_version=seen_version,
    )
    return message_out(message, portal=portal)
