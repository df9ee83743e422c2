"""Customer and contact import from .xlsx and .csv (UTF-8 or GBK).

A file is streamed, never held in memory: one pass counts its rows and refuses a file over
``KEFU_IMPORT_MAX_ROWS`` before any row is validated; a second pass validates every row before anything
is written. The user chooses the mode:
``all_or_nothing`` writes nothing if any row is bad; ``valid_rows`` writes the good rows and reports
the bad ones. Either way the report lists every rejected row with its row number, column and reason.
Re-importing a file updates customers by customer number instead of duplicating them.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import functools
import logging
import re
import warnings
import zipfile
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.accounts.actors import Actor
from kefu.core import audit
from kefu.core.actors import SYSTEM
from kefu.core.errors import ValidationFailed
from kefu.core.models import AuditAction
from kefu.customers import services
from kefu.customers.enums import ContactChannel, CustomerKind, CustomerSource, ImportMode, ImportStatus, Tier
from kefu.customers.models import Customer, ImportJob

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    header_en: str
    required: bool = False


COLUMNS: tuple[Column, ...] = (
    Column("customer_no", "客户编号", "customer_no", required=True),
    Column("name", "客户名称", "name", required=True),
    Column("kind", "客户类型", "kind"),
    Column("tier", "客户等级", "tier"),
    Column("segments", "客户细分", "segments"),
    Column("province", "省份", "province"),
    Column("city", "城市", "city"),
    Column("address", "地址", "address"),
    Column("contact_name", "联系人", "contact_name"),
    Column("contact_title", "职务", "contact_title"),
    Column("phone", "电话", "phone"),
    Column("email", "邮箱", "email"),
    Column("wechat_id", "微信号", "wechat_id"),
    Column("preferred_channel", "首选渠道", "preferred_channel"),
    Column("quiet_hours", "免打扰时段", "quiet_hours"),
)
_BY_HEADER = {h.lower(): c for c in COLUMNS for h in (c.header, c.header_en, c.key)}

# Values people type in spreadsheets → stored choices.
_KIND = {
    "企业": CustomerKind.ORGANIZATION,
    "企业客户": CustomerKind.ORGANIZATION,
    "个人": CustomerKind.CONSUMER,
    "个人客户": CustomerKind.CONSUMER,
    "organization": CustomerKind.ORGANIZATION,
    "consumer": CustomerKind.CONSUMER,
}
_TIER = {
    "vip": Tier.VIP,
    "核心": Tier.CORE,
    "core": Tier.CORE,
    "普通": Tier.STANDARD,
    "standard": Tier.STANDARD,
}
_FORMULA_START = ("=", "+", "-", "@")
# Control characters that PostgreSQL (NUL) or .xlsx (the rest) cannot store; tab and newlines stay.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


@functools.cache
def _channel_labels() -> dict[str, str]:
    """Preferred channel by value or label, in every UI language (an export made in English re-imports)."""
    labels: dict[str, str] = {v: v for v in ContactChannel.values}
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            labels.update({str(label).lower(): value for value, label in ContactChannel.choices})
    return labels


_QUIET = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–~至到]\s*(\d{1,2}):(\d{2})\s*$")
_SEGMENT_SPLIT = re.compile(r"[、,，;；/|]")


@dataclass
class RowError:
    row: int
    column: str
    reason: str


@dataclass
class ImportResult:
    total_rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped_empty: int = 0
    committed: bool = False
    errors: list[RowError] = field(default_factory=list)

    @property
    def error_rows(self) -> int:
        return len({e.row for e in self.errors})


class ImportFileError(ValidationFailed):
    """The file as a whole cannot be imported (size, type, encoding, columns)."""


@dataclass
class _Row:
    number: int
    values: dict[str, Any]


def _csv_encoding(path: Path) -> str:
    """The encoding a CSV file decodes with (UTF-8, else GBK/GB18030), found by decoding it in chunks."""
    for encoding in ("utf-8-sig", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with path.open("rb") as handle:
                while chunk := handle.read(1024 * 1024):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise ImportFileError(
        _("无法识别文件编码：请另存为 UTF-8 或 GBK 编码的 CSV"), fields={"file": [_("编码无法识别")]}
    )


def _unreadable_xlsx(exc: Exception) -> ImportFileError:
    return ImportFileError(
        _("无法读取 Excel 文件：%(error)s") % {"error": exc.__class__.__name__},
        fields={"file": [_("文件损坏或不是 .xlsx")]},
    )


def _table(path: Path, filename: str) -> Generator[Sequence[Any]]:
    """The first sheet's rows, one at a time: a file is never held in memory as a whole (openpyxl's
    read-only mode parses the sheet as a stream; CSV is read line by line)."""
    suffix = Path(filename).suffix.lower()
    if suffix == ".csv":
        encoding = _csv_encoding(path)
        with path.open(encoding=encoding, newline="") as handle:
            try:
                yield from csv.reader(handle)
            except csv.Error as exc:
                raise ImportFileError(
                    _("无法读取 CSV 文件：%(error)s") % {"error": exc}, fields={"file": [_("CSV 格式有误")]}
                ) from exc
        return
    if suffix != ".xlsx":
        raise ImportFileError(
            _("不支持的文件类型 %(suffix)s：请上传 .xlsx 或 .csv") % {"suffix": suffix or _("(无扩展名)")},
            fields={"file": [_("文件类型不支持")]},
        )
    from openpyxl import load_workbook

    # Spreadsheets saved by Excel/WPS often make openpyxl warn (styles, data validation); the import
    # depends on neither. A corrupt file can fail on opening or only mid-way.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            workbook = load_workbook(path, read_only=True, data_only=False)
        except Exception as exc:  # openpyxl raises many types for a corrupt file
            raise _unreadable_xlsx(exc) from exc
    try:
        if not workbook.worksheets:
            raise ImportFileError(_("Excel 文件中没有工作表"), fields={"file": [_("没有工作表")]})
        yield from workbook.worksheets[0].iter_rows(values_only=True)
    except ImportFileError:
        raise
    except Exception as exc:
        raise _unreadable_xlsx(exc) from exc
    finally:
        workbook.close()


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime | dt.time):
        return value.strftime("%H:%M") if isinstance(value, dt.time) else value.isoformat()
    return _CONTROL.sub("", str(value)).strip()


def _header_keys(header: Sequence[Any] | None) -> list[str | None]:
    """The column key of each header cell (None for an empty one). Raises ImportFileError for a missing,
    unknown or repeated column."""
    if header is None or all(_cell_text(cell) == "" for cell in header):
        raise ImportFileError(_("文件是空的：第一行应为表头"), fields={"file": [_("没有表头行")]})
    keys: list[str | None] = []
    unknown: list[str] = []
    repeated: list[str] = []
    for cell in header:
        text = _cell_text(cell)
        column = _BY_HEADER.get(text.lower())
        if column is None and text:
            unknown.append(text)
        if column is not None and column.key in keys:
            repeated.append(text)
        keys.append(column.key if column else None)
    missing = [c.header for c in COLUMNS if c.required and c.key not in keys]
    problems: dict[str, list[str]] = {}
    if missing:
        problems["columns"] = [_("缺少必填列：%(columns)s") % {"columns": _("、").join(missing)}]
    if unknown:
        problems.setdefault("columns", []).append(
            _("无法识别的列：%(columns)s") % {"columns": _("、").join(unknown)}
        )
    if repeated:
        problems.setdefault("columns", []).append(
            _("重复的列：%(columns)s") % {"columns": _("、").join(repeated)}
        )
    if problems:
        raise ImportFileError(
            _("表头不符合模板：%(problems)s") % {"problems": _("；").join(problems["columns"])},
            fields=problems,
        )
    return keys


def read_rows(path: Path, filename: str) -> Generator[_Row | None]:
    """The data rows, one at a time, keyed by column and numbered as the spreadsheet numbers them
    (header = row 1); ``None`` for an empty row. Raises ImportFileError for a missing or unknown column."""
    with contextlib.closing(_table(path, filename)) as table:
        keys = _header_keys(next(table, None))
        for number, cells in enumerate(table, start=2):
            values = {key: cells[i] if i < len(cells) else None for i, key in enumerate(keys) if key}
            if all(_cell_text(v) == "" for v in values.values()):
                yield None
            else:
                yield _Row(number=number, values=values)


_SHEET_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_VALUE_TAGS = {f"{_SHEET_NS}v", f"{_SHEET_NS}t"}  # a cell's value, an inline string's text


def _first_sheet_xml(archive: zipfile.ZipFile) -> str:
    """The archive member holding the workbook's first sheet (the one the import reads)."""
    # ElementTree resolves no external entities, and the expat it is built on (≥ 2.4) refuses
    # entity-expansion bombs: what defusedxml would guard against (S314).
    workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))  # noqa: S314
    sheet = workbook.find(f"{_SHEET_NS}sheets/{_SHEET_NS}sheet")
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))  # noqa: S314
    if sheet is None:
        raise ImportFileError(_("Excel 文件中没有工作表"), fields={"file": [_("没有工作表")]})
    rel_id = sheet.get(f"{_REL_NS}id")
    target = next(
        r.get("Target", "") for r in rels.iter(f"{_PKG_REL_NS}Relationship") if r.get("Id") == rel_id
    )
    return target.lstrip("/") if target.startswith("/") else f"xl/{target}"


def _xlsx_value_rows(path: Path, *, stop_after: int) -> int:
    """Rows of the first sheet that hold a value, counted from the sheet's XML as it streams by, up to
    ``stop_after``. openpyxl cannot do this cheaply: opening a sheet without a declared size makes it
    parse the whole sheet first (a minute for a million rows)."""
    try:
        with zipfile.ZipFile(path) as archive, archive.open(_first_sheet_xml(archive)) as sheet:
            count = -1  # the header row
            for _event, element in ElementTree.iterparse(sheet):  # noqa: S314 - see _first_sheet_xml
                if element.tag == f"{_SHEET_NS}row":
                    if any(e.tag in _VALUE_TAGS and (e.text or "").strip() for e in element.iter()):
                        count += 1
                        if count >= stop_after:
                            return count
                    element.clear()
            return max(count, 0)
    except ImportFileError:
        raise
    except Exception as exc:  # a corrupt archive or sheet raises many types
        raise _unreadable_xlsx(exc) from exc


def count_rows(path: Path, filename: str, *, limit: int) -> int:
    """The number of data rows (about: rows with a value), read up to one past ``limit``; raises
    ImportFileError naming the limit when there are more, so an oversized file is refused before any
    row is validated."""
    if Path(filename).suffix.lower() == ".xlsx":
        count = _xlsx_value_rows(path, stop_after=limit + 1)
    else:
        count = 0
        with contextlib.closing(read_rows(path, filename)) as rows:
            for row in rows:
                count += row is not None
                if count > limit:
                    break
    if count > limit:
        raise ImportFileError(
            _("文件多于 %(limit)s 行数据，超过每次导入的上限：请拆分后再导入") % {"limit": f"{limit:,}"},
            fields={"file": [_("行数超过上限 %(limit)s") % {"limit": f"{limit:,}"}]},
        )
    return count


@dataclass
class _Clean:
    number: int
    customer: dict[str, Any]
    segments: list[str] | None
    contact: services.ContactData | None


def _clean(row: _Row, errors: list[RowError]) -> _Clean | None:
    start = len(errors)
    header = {c.key: c.header for c in COLUMNS}
    text: dict[str, str] = {}
    for key, value in row.values.items():
        cell = _cell_text(value)
        if cell.startswith("="):
            errors.append(RowError(row.number, header[key], _("单元格包含公式，请粘贴为数值")))
        elif cell.startswith("'") and cell[1:2] in _FORMULA_START and cell[1:2]:
            # An export writes '=… / '+… / '-… / '@… so no spreadsheet runs it; take the text back.
            cell = cell[1:]
        text[key] = cell
    customer: dict[str, Any] = {"customer_no": text.get("customer_no", ""), "name": text.get("name", "")}
    if not customer["customer_no"]:
        errors.append(RowError(row.number, "客户编号", _("必填")))
    if not customer["name"]:
        errors.append(RowError(row.number, "客户名称", _("必填")))
    for key, mapping, label in (("kind", _KIND, "客户类型"), ("tier", _TIER, "客户等级")):
        raw = text.get(key, "")
        if raw:
            value = mapping.get(raw.lower()) or mapping.get(raw)
            if value is None:
                errors.append(RowError(row.number, label, _("无法识别的值 %(value)s") % {"value": repr(raw)}))
            else:
                customer[key] = value
    for key in ("province", "city", "address"):
        if text.get(key):
            customer[key] = text[key]
    field_errors = services.validate_customer_fields({k: v for k, v in customer.items() if k != "name" or v})
    for name, messages in field_errors.items():
        if name != "name":
            errors.extend(RowError(row.number, header.get(name, name), m) for m in messages)
    segments = None
    if "segments" in text:
        segments = [s.strip() for s in _SEGMENT_SPLIT.split(text["segments"]) if s.strip()]
        try:
            services.resolve_segments(segments)
        except ValidationFailed as exc:
            errors.extend(RowError(row.number, "客户细分", m) for m in exc.fields.get("segments", []))
    contact = None
    if any(text.get(k) for k in ("contact_name", "phone", "email", "wechat_id")):
        channel_raw = text.get("preferred_channel", "")
        channel = _channel_labels().get(channel_raw.lower(), "") if channel_raw else ContactChannel.PHONE
        if channel_raw and not channel:
            errors.append(
                RowError(row.number, "首选渠道", _("无法识别的值 %(value)s") % {"value": repr(channel_raw)})
            )
            channel = ContactChannel.PHONE
        quiet_start = quiet_end = None
        if text.get("quiet_hours"):
            match = _QUIET.match(text["quiet_hours"])
            try:
                if not match:
                    raise ValueError
                h1, m1, h2, m2 = (int(g) for g in match.groups())
                quiet_start, quiet_end = dt.time(h1, m1), dt.time(h2, m2)
            except ValueError:
                errors.append(
                    RowError(
                        row.number,
                        "免打扰时段",
                        _("格式应为 22:00-08:00，实际 %(value)s") % {"value": repr(text["quiet_hours"])},
                    )
                )
        contact = services.ContactData(
            name=text.get("contact_name", "") or customer["name"],
            phone=text.get("phone", ""),
            email=text.get("email", ""),
            wechat_id=text.get("wechat_id", ""),
            title=text.get("contact_title", ""),
            preferred_channel=channel,
            quiet_hours_start=quiet_start,
            quiet_hours_end=quiet_end,
            is_primary=True,
        )
        try:
            services.validate_contact(contact)
        except ValidationFailed as exc:
            labels = {"name": "联系人", "phone": "电话", "email": "邮箱", "quiet_hours": "免打扰时段"}
            for name, messages in exc.fields.items():
                if name == "name" and not text.get("contact_name"):
                    continue  # the contact took the empty customer name: reported once, as 客户名称
                errors.extend(RowError(row.number, labels.get(name, name), m) for m in messages)
    if len(errors) > start:
        return None
    return _Clean(number=row.number, customer=customer, segments=segments, contact=contact)


def _write(actor: Actor, item: _Clean) -> str:
    """Create or update one row; returns "created", "updated" or "unchanged"."""
    number = item.customer["customer_no"]
    existing = Customer.objects.filter(customer_no=number).first()
    if existing is None:
        values = {k: v for k, v in item.customer.items() if k != "customer_no"}
        services.customer_create(
            actor=actor,
            customer_no=number,
            segments=item.segments or (),
            contacts=[item.contact] if item.contact else (),
            source=CustomerSource.IMPORT,
            **values,
        )
        return "created"
    changes = {k: v for k, v in item.customer.items() if k != "customer_no"}
    updated = services.customer_update(actor=actor, customer=existing, segments=item.segments, **changes)
    changed = updated.version != existing.version
    if item.contact is not None:
        match = None
        phone = services.validate_contact(item.contact)["phone"]
        if phone:
            match = existing.contacts.filter(phone=phone).first()
        match = match or existing.contacts.filter(name=item.contact.name.strip()).first()
        if match is None:
            services.contact_create(actor=actor, customer=existing, data=item.contact)
            changed = True
        else:
            before = audit.snapshot(match, services.CONTACT_FIELDS)
            others_primary = existing.contacts.exclude(pk=match.pk).filter(is_primary=True).exists()
            contact = services.contact_update(actor=actor, contact=match, data=item.contact)
            changed = changed or others_primary or bool(audit.diff(before, contact))
    return "updated" if changed else "unchanged"


_LABELS: dict[str, str | Promise] = {
    **{c.key: c.header for c in COLUMNS},
    "quiet_hours": "免打扰时段",
    "": gettext_lazy("文件"),
}


def _label(field_name: str) -> str:
    """A service's field name (``phone``, ``contacts.0.phone``) as the template column a user sees."""
    return str(_LABELS.get(field_name.rsplit(".", 1)[-1], field_name))


Progress = Callable[[int], None]
Phase = Callable[[str, int], None]


class _Rollback(Exception):
    """Undo an all-or-nothing import when a row fails only at write time."""


@dataclass
class Checkpoint:
    """What a ``valid_rows`` import has committed: the first ``rows_done`` valid rows (in file order)
    are written or were refused at write time (``write_errors``). Saved in the transaction that writes
    them, so a run interrupted by a killed worker resumes exactly after them."""

    rows_done: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    write_errors: list[RowError] = field(default_factory=list)


# Valid rows written per transaction in valid_rows mode (each row in its own savepoint).
WRITE_BATCH = 100


def import_customers(
    path: Path,
    *,
    filename: str,
    mode: ImportMode | str,
    actor: Actor,
    progress: Progress | None = None,
    phase: Phase | None = None,
    resume: Checkpoint | None = None,
    checkpoint: Callable[[Checkpoint, int], None] | None = None,
) -> ImportResult:
    """Validate every row of the file, then write according to ``mode``. For a progress bar,
    ``phase(name, total)`` is called when validating and when writing start, and ``progress(n)`` as
    rows are validated and as rows are written. In ``valid_rows`` mode rows are written in batches;
    ``checkpoint(done, total_rows)`` is called inside each batch's transaction, and a run given
    ``resume`` (an earlier run's last checkpoint, same file) skips the rows it had done."""
    if mode not in ImportMode.values:
        raise ImportFileError(
            _("未知的导入模式 %(mode)s") % {"mode": mode},
            fields={"mode": [_("可选：%(modes)s") % {"modes": _("、").join(ImportMode.values)}]},
        )
    size = path.stat().st_size
    if size > settings.KEFU_IMPORT_MAX_BYTES:
        limit_mb = settings.KEFU_IMPORT_MAX_BYTES // (1024 * 1024)
        raise ImportFileError(
            _("文件 %(size)s MB，超过上限 %(limit)s MB：请拆分后再导入")
            % {"size": f"{size / 1024 / 1024:.1f}", "limit": limit_mb},
            fields={"file": [_("文件过大")]},
        )
    if size == 0:
        raise ImportFileError(_("文件是空的：第一行应为表头"), fields={"file": [_("没有表头行")]})
    total = count_rows(path, filename, limit=settings.KEFU_IMPORT_MAX_ROWS)
    result = ImportResult()
    cleaned: list[_Clean] = []
    seen: dict[str, int] = {}
    if phase:
        phase(_("校验"), total)
    for row in read_rows(path, filename):
        if row is None:
            result.skipped_empty += 1
            continue
        result.total_rows += 1
        number = _cell_text(row.values.get("customer_no"))
        first = seen.setdefault(number, row.number) if number else row.number
        item = _clean(row, result.errors)
        if first != row.number:
            result.errors.append(
                RowError(
                    row.number,
                    "客户编号",
                    _("与第 %(row)s 行重复：%(number)s") % {"row": first, "number": number},
                )
            )
        elif item is not None:
            cleaned.append(item)
        if progress:
            progress(1)
    if result.errors and mode == ImportMode.ALL_OR_NOTHING:
        return result
    if phase:
        phase(_("写入"), len(cleaned))
    if mode == ImportMode.ALL_OR_NOTHING:
        try:
            with transaction.atomic():
                for item in cleaned:
                    try:
                        _count(result, _write(actor, item))
                    except ValidationFailed as exc:
                        _row_failed(result, item, exc)
                        raise _Rollback from exc
                    if progress:
                        progress(1)
        except _Rollback:
            result.created = result.updated = result.unchanged = 0
    else:
        done = resume or Checkpoint()
        result.created, result.updated, result.unchanged = done.created, done.updated, done.unchanged
        result.errors.extend(done.write_errors)
        if progress and done.rows_done:
            progress(done.rows_done)
        pending = cleaned[done.rows_done :]
        for start in range(0, len(pending), WRITE_BATCH):
            with transaction.atomic():
                for item in pending[start : start + WRITE_BATCH]:
                    try:
                        with transaction.atomic():
                            _count(result, _write(actor, item))
                    except ValidationFailed as exc:
                        done.write_errors.extend(_row_failed(result, item, exc))
                    done.rows_done += 1
                    if progress:
                        progress(1)
                done.created, done.updated, done.unchanged = result.created, result.updated, result.unchanged
                if checkpoint:
                    checkpoint(done, result.total_rows)
    result.committed = result.created + result.updated + result.unchanged > 0
    return result


def _row_failed(result: ImportResult, item: _Clean, exc: ValidationFailed) -> list[RowError]:
    errors = [
        RowError(item.number, _label(name), m)
        for name, messages in (exc.fields or {"": [exc.message]}).items()
        for m in messages
    ]
    result.errors.extend(errors)
    return errors


def _count(result: ImportResult, outcome: str) -> None:
    if outcome == "created":
        result.created += 1
    elif outcome == "updated":
        result.updated += 1
    else:
        result.unchanged += 1


_FILE_PROBLEM_LABELS = {
    "file": gettext_lazy("文件"),
    "columns": gettext_lazy("表头"),
    "mode": gettext_lazy("导入方式"),
}


def import_job_run(job: ImportJob) -> ImportJob:
    """Run a queued job (called by the worker). The job records the outcome, never raises it. Its
    message and row errors are written in the language of the request that queued it."""
    with translation.override(job.language or settings.LANGUAGE_CODE):
        return _import_job_run(job)


_FINISHED = (ImportStatus.DONE, ImportStatus.REJECTED, ImportStatus.FAILED)


def _row_error(data: dict[str, Any]) -> RowError:
    return RowError(int(data["row"]), str(data["column"]), str(data["reason"]))


def _save_checkpoint(job: ImportJob, done: Checkpoint, total_rows: int) -> None:
    ImportJob.objects.filter(pk=job.pk).update(
        total_rows=total_rows,
        rows_done=done.rows_done,
        created_count=done.created,
        updated_count=done.updated,
        unchanged_count=done.unchanged,
        errors=[{"row": e.row, "column": e.column, "reason": e.reason} for e in done.write_errors[:1000]],
    )


def _written_so_far(job: ImportJob) -> str:
    """What an interrupted job committed, from its last checkpoint."""
    if not job.rows_done:
        return str(_("未导入任何数据"))
    return _(
        "已写入的行保留：新建 %(created)s，更新 %(updated)s，未变化 %(unchanged)s（共 %(total)s 行中的前 "
        "%(done)s 个有效行）；重新上传同一文件即可补齐，已写入的按客户编号更新，不会重复"
    ) % {
        "created": job.created_count,
        "updated": job.updated_count,
        "unchanged": job.unchanged_count,
        "total": job.total_rows,
        "done": job.rows_done,
    }


def _import_job_run(job: ImportJob) -> ImportJob:
    if job.status in _FINISHED:  # its worker died after finishing it, before marking the task done
        return job
    # RUNNING: an earlier run's worker died (its lease expired); carry on after its last checkpoint.
    resume = None
    if job.status == ImportStatus.RUNNING and job.mode == ImportMode.VALID_ROWS and job.rows_done:
        resume = Checkpoint(
            rows_done=job.rows_done,
            created=job.created_count,
            updated=job.updated_count,
            unchanged=job.unchanged_count,
            write_errors=[_row_error(e) for e in job.errors],
        )
        logger.warning("import job %s resumes after %s rows", job.public_id, job.rows_done)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING)
    try:
        result = import_customers(
            Path(job.file.path),
            filename=job.original_name,
            mode=job.mode,
            actor=job.created_by or SYSTEM,
            resume=resume,
            checkpoint=functools.partial(_save_checkpoint, job),
        )
    except ImportFileError as exc:
        job.status = ImportStatus.REJECTED
        job.message = exc.message[:500]
        job.errors = [
            {"row": 0, "column": str(_FILE_PROBLEM_LABELS.get(k, k)), "reason": m}
            for k, v in exc.fields.items()
            for m in v
        ]
    except Exception as exc:  # an unexpected failure must not leave the job "running" forever
        logger.exception("import job %s failed", job.public_id)
        job.refresh_from_db()
        job.status = ImportStatus.FAILED
        job.message = (
            _("导入出错（%(error)s），%(written)s；请联系管理员")
            % {"error": exc.__class__.__name__, "written": _written_so_far(job)}
        )[:500]
    else:
        job.total_rows = result.total_rows
        job.created_count = result.created
        job.updated_count = result.updated
        job.unchanged_count = result.unchanged
        job.error_count = result.error_rows
        job.errors = [{"row": e.row, "column": e.column, "reason": e.reason} for e in result.errors[:1000]]
        job.status = ImportStatus.DONE if result.committed or not result.errors else ImportStatus.REJECTED
        if result.errors and job.mode == ImportMode.ALL_OR_NOTHING:
            job.message = _("%(rows)s 行有错误，按“全部成功才导入”模式未导入任何数据") % {
                "rows": result.error_rows
            }
        else:
            job.message = _(
                "新建 %(created)s，更新 %(updated)s，未变化 %(unchanged)s，"
                "错误 %(errors)s 行，跳过空行 %(empty)s"
            ) % {
                "created": result.created,
                "updated": result.updated,
                "unchanged": result.unchanged,
                "errors": result.error_rows,
                "empty": result.skipped_empty,
            }
    job.finished_at = timezone.now()
    job.save()
    if job.created_by is not None:
        audit.record(
            actor=job.created_by,
            action=AuditAction.IMPORT,
            obj=job,
            changes={"result": [None, job.message]},
        )
    return job


@transaction.atomic
def import_job_abandon(*, job_id: int) -> None:
    """End a job whose worker died on every attempt (``kefu.core.worker`` gave its task up) as failed,
    saying what its committed batches wrote."""
    job = ImportJob.objects.select_for_update().filter(pk=job_id).first()
    if job is None or job.status in _FINISHED:
        return
    with translation.override(job.language or settings.LANGUAGE_CODE):
        job.status = ImportStatus.FAILED
        job.message = (_("导入被中断（后台进程多次退出）；%(written)s") % {"written": _written_so_far(job)})[
            :500
        ]
        job.finished_at = timezone.now()
        job.save()
        if job.created_by is not None:
            audit.record(
                actor=job.created_by,
                action=AuditAction.IMPORT,
                obj=job,
                changes={"result": [None, job.message]},
            )
