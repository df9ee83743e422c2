"""Starting a customer import: the uploaded file is stored, its ``ImportJob`` created and its task queued
in one transaction. The worker runs it (``tasks.run_import_job`` → ``importing.import_job_run``)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from kefu.accounts.actors import person
from kefu.accounts.models import User
from kefu.core.errors import ValidationFailed
from kefu.customers.enums import ImportMode
from kefu.customers.models import ImportJob
from kefu.customers.tasks import run_import_job


@transaction.atomic
def import_job_create(*, actor: User, upload: UploadedFile | None, mode: str) -> ImportJob:
    """Store an uploaded file and queue its import for the worker (in the same transaction)."""
    if upload is None:
        raise ValidationFailed.for_field("file", _("请选择要导入的文件"))
    if mode not in ImportMode.values:
        raise ValidationFailed.for_field("mode", _("未知的导入模式 %(mode)s") % {"mode": mode})
    suffix = Path(upload.name or "").suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise ValidationFailed.for_field(
            "file",
            _("不支持的文件类型 %(suffix)s：请上传 .xlsx 或 .csv") % {"suffix": suffix or _("(无扩展名)")},
        )
    if not upload.size:
        raise ValidationFailed.for_field("file", _("文件是空的：第一行应为表头"))
    if upload.size > settings.KEFU_IMPORT_MAX_BYTES:
        limit_mb = settings.KEFU_IMPORT_MAX_BYTES // (1024 * 1024)
        raise ValidationFailed.for_field(
            "file", _("文件超过上限 %(limit)s MB：请拆分后再导入") % {"limit": limit_mb}
        )
    job = ImportJob.objects.create(
        created_by=person(actor),
        file=upload,
        original_name=upload.name or "upload",
        mode=mode,
        language=translation.get_language() or settings.LANGUAGE_CODE,
    )
    run_import_job.enqueue(job_id=job.pk)
    return job
