"""Reply drafts: what an agent is writing on a ticket, kept on the server per ticket and user.

The reply box saves as the agent types (htmx, debounced), so the text survives leaving the page, a
reload or another device; sending the reply clears it. A reply held back by a conflict keeps its files
with the draft (``reply_draft_keep_files``), and the next send carries them.

Drafts are the writer's own unfinished work, not ticket data: saving one is not audited and does not
touch the ticket's version. Sending goes through ``message_add``, which is.

A draft nobody touched for ``KEFU_DRAFT_RETENTION_DAYS`` is abandoned: the hourly maintenance run
(``kefu.core.tasks``) removes it with its files (:func:`reply_drafts_prune`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from kefu.tickets.enums import Visibility
from kefu.tickets.models import Attachment, DraftAttachment, Message, ReplyDraft, Ticket
from kefu.tickets.services.messages import message_add

logger = logging.getLogger(__name__)

MAX_DRAFT_CHARS = 50_000  # as much as a reply may hold
DRAFT_FILES_DIR = "drafts"  # DraftAttachment.file's upload_to starts here; nothing else is stored there


def draft_for(ticket: Ticket, user: Any) -> ReplyDraft | None:
    return ReplyDraft.objects.filter(ticket=ticket, user=user).prefetch_related("attachments").first()


def _visibility(value: str) -> str:
    return Visibility.INTERNAL if value == Visibility.INTERNAL else Visibility.PUBLIC


@transaction.atomic
def reply_draft_save(*, actor: Any, ticket: Ticket, body: str, visibility: str) -> ReplyDraft | None:
    """Keep what the agent has typed; an emptied box without kept files removes the draft."""
    body = body[:MAX_DRAFT_CHARS]
    draft = ReplyDraft.objects.select_for_update().filter(ticket=ticket, user=actor).first()
    if not body.strip() and (draft is None or not draft.attachments.exists()):
        if draft is not None:
            draft.delete()
        return None
    if draft is None:
        draft, _created = ReplyDraft.objects.get_or_create(ticket=ticket, user=actor)
    draft.body = body
    draft.visibility = _visibility(visibility)
    draft.updated_at = timezone.now()
    draft.save(update_fields=["body", "visibility", "updated_at"])
    return draft


@transaction.atomic
def reply_draft_keep_files(
    *, actor: Any, ticket: Ticket, body: str, visibility: str, files: Sequence[File[Any]]
) -> ReplyDraft:
    """A reply that could not be sent (a conflict): keep its text and its files with the draft."""
    draft, _created = ReplyDraft.objects.get_or_create(ticket=ticket, user=actor)
    draft.body = body[:MAX_DRAFT_CHARS]
    draft.visibility = _visibility(visibility)
    draft.updated_at = timezone.now()
    draft.save(update_fields=["body", "visibility", "updated_at"])
    for upload in files:
        DraftAttachment.objects.create(
            draft=draft, file=upload, name=(upload.name or "file")[:255], size=upload.size or 0
        )
    return draft


@transaction.atomic
def reply_send(
    *,
    actor: Any,
    ticket: Ticket,
    body: str,
    visibility: str,
    uploads: Sequence[File[Any]] = (),
    keep: Sequence[int] = (),
    seen_version: int | None = None,
) -> Message:
    """Send a reply with its new ``uploads`` and the draft's kept files named in ``keep``, then clear the
    draft — all or nothing: a refused reply leaves the draft and its files as they were."""
    draft = ReplyDraft.objects.select_for_update().filter(ticket=ticket, user=actor).first()
    kept = list(draft.attachments.filter(pk__in=list(keep))) if draft is not None else []
    files = [File(item.file.open("rb"), name=item.name) for item in kept]
    try:
        message = message_add(
            actor=actor,
            ticket=ticket,
            body=body,
            visibility=_visibility(visibility),
            attachments=[*uploads, *files],
            seen_version=seen_version,
        )
    finally:
        for file in files:
            file.close()
    if draft is not None:
        reply_draft_discard(draft=draft)
    return message


def reply_draft_discard(*, draft: ReplyDraft) -> None:
    """Delete the draft; its stored files go once the deletion is committed."""
    names = [item.file.name for item in draft.attachments.all()]
    storage = DraftAttachment._meta.get_field("file").storage
    draft.delete()

    def delete_files() -> None:
        for name in names:
            storage.delete(name)

    transaction.on_commit(delete_files)


def reply_drafts_prune() -> int:
    """Remove drafts not saved for ``KEFU_DRAFT_RETENTION_DAYS`` with their files, and files under
    ``drafts/`` as old that no draft holds (a deleted ticket's, a save that was rolled back). Files of
    sent messages are stored elsewhere (``attachments/``) and never touched. Returns the drafts removed."""
    cutoff = timezone.now() - dt.timedelta(days=settings.KEFU_DRAFT_RETENTION_DAYS)
    removed = 0
    with transaction.atomic():
        # Locked and checked again: a draft saved meanwhile has a new updated_at and stays.
        for draft in ReplyDraft.objects.select_for_update().filter(updated_at__lt=cutoff):
            reply_draft_discard(draft=draft)
            removed += 1
    _prune_orphan_files(cutoff)
    return removed


def _prune_orphan_files(cutoff: dt.datetime) -> None:
    storage = DraftAttachment._meta.get_field("file").storage
    held = set(DraftAttachment.objects.values_list("file", flat=True))
    held |= set(
        Attachment.objects.filter(file__startswith=f"{DRAFT_FILES_DIR}/").values_list("file", flat=True)
    )
    for name in _files_under(storage, DRAFT_FILES_DIR):
        if name not in held and storage.get_modified_time(name) < cutoff:
            storage.delete(name)
            logger.info("abandoned draft file %s deleted", name)


def _files_under(storage: Any, path: str) -> list[str]:
    if not storage.exists(path):
        return []
    directories, files = storage.listdir(path)
    found = [f"{path}/{name}" for name in files]
    for directory in directories:
        found += _files_under(storage, f"{path}/{directory}")
    return found
