"""Abandoned reply drafts are removed, with their files, by the hourly maintenance run — files of sent
messages stay."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from kefu.core import tasks
from kefu.tickets import drafts
from kefu.tickets.models import Attachment, DraftAttachment, ReplyDraft
from kefu.tickets.tests.factories import new_message, new_ticket

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n" + b"0" * 64


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.KEFU_DRAFT_RETENTION_DAYS = 30


@pytest.fixture
def ticket(agent, team):
    return new_ticket(actor=agent, subject="冷链货物延误", team=team)


def _draft_with_file(ticket, user, *, days_old: int) -> DraftAttachment:
    draft = drafts.reply_draft_keep_files(
        actor=user,
        ticket=ticket,
        body="请查收",
        visibility="public",
        files=[SimpleUploadedFile("单.pdf", PDF)],
    )
    ReplyDraft.objects.filter(pk=draft.pk).update(updated_at=timezone.now() - dt.timedelta(days=days_old))
    return draft.attachments.get()


def _age(path: Path, days: int) -> None:
    when = (timezone.now() - dt.timedelta(days=days)).timestamp()
    os.utime(path, (when, when))


def test_maintenance_removes_drafts_older_than_the_setting_with_their_files(
    agent, ticket, tmp_path, make_user, django_capture_on_commit_callbacks
):
    # given: a draft untouched for 31 days and one saved yesterday, each with a file
    old = _draft_with_file(ticket, agent, days_old=31)
    fresh = _draft_with_file(ticket, make_user(), days_old=1)
    old_path, fresh_path = Path(old.file.path), Path(fresh.file.path)
    assert old_path.is_relative_to(tmp_path / "drafts")

    # when: the hourly maintenance runs (files go once the deletion is committed)
    with django_capture_on_commit_callbacks(execute=True):
        result = tasks.run_maintenance.call()

    # then: the old draft and its file are gone, the recent one is untouched
    assert result["reply_drafts_pruned"] == 1
    assert list(ReplyDraft.objects.values_list("pk", flat=True)) == [fresh.draft_id]
    assert list(DraftAttachment.objects.all()) == [fresh]
    assert not old_path.exists()
    assert fresh_path.read_bytes() == PDF


def test_the_age_is_configurable(agent, ticket, settings):
    settings.KEFU_DRAFT_RETENTION_DAYS = 3
    kept = _draft_with_file(ticket, agent, days_old=2)

    assert drafts.reply_drafts_prune() == 0
    ReplyDraft.objects.filter(pk=kept.draft_id).update(updated_at=timezone.now() - dt.timedelta(days=4))
    assert drafts.reply_drafts_prune() == 1
    assert not ReplyDraft.objects.exists()


def test_files_no_draft_holds_go_once_old_and_sent_attachments_stay(agent, ticket, tmp_path):
    # given: a sent reply's attachment from long ago, and files under drafts/ that no draft holds any
    # more (their ticket was deleted) — one old, one from a save an hour ago
    message = new_message(
        ticket=ticket, actor=agent, body="附件", attachments=[SimpleUploadedFile("回单.pdf", PDF)]
    )
    sent = Path(Attachment.objects.get(message=message).file.path)
    _age(sent, 400)
    orphan = _draft_with_file(new_ticket(actor=agent, team=ticket.team), agent, days_old=0)
    orphan_path = Path(orphan.file.path)
    recent_orphan = _draft_with_file(new_ticket(actor=agent, team=ticket.team), agent, days_old=0)
    recent_path = Path(recent_orphan.file.path)
    DraftAttachment.objects.all().delete()
    _age(orphan_path, 31)

    tasks.maintain()

    assert not orphan_path.exists()
    assert recent_path.read_bytes() == PDF
    assert sent.read_bytes() == PDF
    assert Attachment.objects.count() == 1


def test_kefu_prune_reports_the_drafts(agent, ticket, capsys):
    from kefu import cli

    _draft_with_file(ticket, agent, days_old=90)

    assert cli.main(["prune"]) == 0

    out = capsys.readouterr().out
    assert "1 abandoned reply drafts deleted" in out
    assert "0 expired idempotency keys deleted" in out
