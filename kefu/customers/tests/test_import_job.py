"""Web import: the upload is stored and queued in one transaction, the real worker runs it, the job
records the outcome; and the import page's permissions and form errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django_tasks_db.models import DBTaskResult

from kefu.accounts.enums import Role
from kefu.core.errors import ValidationFailed
from kefu.core.models import AuditAction, AuditEvent
from kefu.customers.enums import ImportMode, ImportStatus
from kefu.customers.import_jobs import import_job_create
from kefu.customers.models import Contact, Customer, ImportJob
from kefu.customers.tests.test_import import GOOD_ROWS, HEADERS, template_row, write_csv, write_xlsx


@pytest.fixture(autouse=True)
def media_root(tmp_path, settings) -> Path:
    root: Path = tmp_path / "media"
    settings.MEDIA_ROOT = root
    return root


def upload(path: Path, name: str | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name or path.name, path.read_bytes())


def run_worker() -> None:
    call_command("db_worker", batch=True, reload=False, startup_delay=False, queue_name="*", verbosity=0)


@pytest.mark.django_db
def test_create_stores_the_upload_and_queues_the_job(tmp_path, make_user):
    lead = make_user(Role.LEAD)
    path = write_xlsx(tmp_path / "客户.xlsx", [HEADERS, *GOOD_ROWS])

    job = import_job_create(actor=lead, upload=upload(path), mode=ImportMode.VALID_ROWS)

    job.refresh_from_db()
    assert (job.status, job.mode, job.original_name, job.created_by) == (
        ImportStatus.PENDING,
        ImportMode.VALID_ROWS,
        "客户.xlsx",
        lead,
    )
    assert Path(job.file.path).read_bytes() == path.read_bytes()
    task = DBTaskResult.objects.get()
    assert task.task_path == "kefu.customers.tasks.run_import_job"
    assert task.args_kwargs == {"args": [], "kwargs": {"job_id": job.pk}}
    assert Customer.objects.count() == 0  # nothing imported until the worker runs


@pytest.mark.django_db
def test_create_and_enqueue_share_one_transaction(tmp_path, make_user):
    lead = make_user(Role.LEAD)
    path = write_xlsx(tmp_path / "客户.xlsx", [HEADERS, *GOOD_ROWS])

    def request_that_fails_after_queuing() -> None:
        with transaction.atomic():
            import_job_create(actor=lead, upload=upload(path), mode=ImportMode.VALID_ROWS)
            assert ImportJob.objects.count() == 1
            assert DBTaskResult.objects.count() == 1
            raise RuntimeError("the request failed after queuing")

    with pytest.raises(RuntimeError, match="after queuing"):
        request_that_fails_after_queuing()

    assert ImportJob.objects.count() == 0
    assert DBTaskResult.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content", "mode", "fields"),
    [
        (None, b"", ImportMode.VALID_ROWS, {"file": ["请选择要导入的文件"]}),
        ("a.txt", b"x", ImportMode.VALID_ROWS, {"file": ["不支持的文件类型 .txt：请上传 .xlsx 或 .csv"]}),
        ("a.csv", b"", ImportMode.VALID_ROWS, {"file": ["文件是空的：第一行应为表头"]}),
        ("a.csv", b"x", "everything", {"mode": ["未知的导入模式 everything"]}),
    ],
)
def test_create_refuses_bad_uploads(make_user, name, content, mode, fields):
    file = SimpleUploadedFile(name, content) if name else None
    with pytest.raises(ValidationFailed) as info:
        import_job_create(actor=make_user(Role.LEAD), upload=file, mode=mode)
    assert info.value.fields == fields
    assert ImportJob.objects.count() == 0
    assert DBTaskResult.objects.count() == 0


@pytest.mark.django_db
def test_create_refuses_a_file_over_the_limit(make_user, settings):
    settings.KEFU_IMPORT_MAX_BYTES = 2 * 1024 * 1024
    file = SimpleUploadedFile("big.csv", b"x" * (2 * 1024 * 1024 + 1))
    with pytest.raises(ValidationFailed) as info:
        import_job_create(actor=make_user(Role.LEAD), upload=file, mode=ImportMode.VALID_ROWS)
    assert info.value.fields == {"file": ["文件超过上限 2 MB：请拆分后再导入"]}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_worker_runs_the_job_and_stores_the_outcome(tmp_path, make_user):
    lead = make_user(Role.LEAD)
    rows = [HEADERS, GOOD_ROWS[0], template_row(customer_no="KH9", name="坏", phone="110"), [], GOOD_ROWS[1]]
    path = write_xlsx(tmp_path / "客户.xlsx", rows)
    job = import_job_create(actor=lead, upload=upload(path), mode=ImportMode.VALID_ROWS)

    run_worker()

    job.refresh_from_db()
    assert job.status == ImportStatus.DONE
    assert (job.total_rows, job.created_count, job.updated_count, job.error_count) == (3, 2, 0, 1)
    assert job.errors == [{"row": 3, "column": "电话", "reason": "电话号码无效：110"}]
    assert job.message == "新建 2，更新 0，未变化 0，错误 1 行，跳过空行 1"
    assert job.finished_at is not None
    assert sorted(Customer.objects.values_list("customer_no", flat=True)) == ["KH100001", "KH100002"]
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
    event = AuditEvent.objects.get(action=AuditAction.IMPORT)
    assert (event.actor, event.object_id, event.changes) == (
        lead,
        str(job.pk),
        {"result": [None, job.message]},
    )
    # Created records are attributed to the user who uploaded the file.
    assert (
        AuditEvent.objects.filter(action=AuditAction.CREATE, object_repr="上海冷运物流有限公司 (KH100001)")
        .get()
        .actor
        == lead
    )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_worker_all_or_nothing_job_with_a_bad_row_imports_nothing(tmp_path, make_user):
    lead = make_user(Role.LEAD)
    rows = [HEADERS, GOOD_ROWS[0], template_row(customer_no="KH9", name="坏", phone="110")]
    job = import_job_create(
        actor=lead, upload=upload(write_xlsx(tmp_path / "a.xlsx", rows)), mode=ImportMode.ALL_OR_NOTHING
    )

    run_worker()

    job.refresh_from_db()
    assert job.status == ImportStatus.REJECTED
    assert job.message == "1 行有错误，按“全部成功才导入”模式未导入任何数据"
    assert job.errors == [{"row": 3, "column": "电话", "reason": "电话号码无效：110"}]
    assert (job.created_count, job.error_count) == (0, 1)
    assert Customer.objects.count() == 0
    assert Contact.objects.count() == 0


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_worker_rejects_a_bad_file_with_the_reason(tmp_path, make_user):
    lead = make_user(Role.LEAD)
    path = write_csv(tmp_path / "a.csv", [["客户编号", "电话", "传真"], ["KH1", "13812345678", ""]])
    job = import_job_create(actor=lead, upload=upload(path), mode=ImportMode.VALID_ROWS)

    run_worker()

    job.refresh_from_db()
    assert job.status == ImportStatus.REJECTED
    assert job.message == "表头不符合模板：缺少必填列：客户名称；无法识别的列：传真"
    assert job.errors == [
        {"row": 0, "column": "表头", "reason": "缺少必填列：客户名称"},
        {"row": 0, "column": "表头", "reason": "无法识别的列：传真"},
    ]
    assert Customer.objects.count() == 0


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_worker_marks_an_unexpected_failure_as_failed(tmp_path, make_user, monkeypatch):
    from kefu.customers import importing

    def explode(*args, **kwargs):
        raise KeyError("boom")

    monkeypatch.setattr(importing, "import_customers", explode)
    path = write_xlsx(tmp_path / "a.xlsx", [HEADERS, GOOD_ROWS[0]])
    job = import_job_create(actor=make_user(Role.LEAD), upload=upload(path), mode=ImportMode.VALID_ROWS)

    run_worker()

    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED
    assert job.message == "导入出错（KeyError），未导入任何数据；请联系管理员"
    assert job.finished_at is not None


# --- the page -----------------------------------------------------------------------------------------


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_lead_upload_redirects_to_the_job_page(tmp_path, make_user):
    lead = make_user(Role.LEAD)
    path = write_xlsx(tmp_path / "客户.xlsx", [HEADERS, *GOOD_ROWS])
    client = client_for(lead)

    with path.open("rb") as handle:
        response = client.post("/customers/import/", {"file": handle, "mode": "valid_rows"})

    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/customers/import/{job.public_id}/"
    assert (job.created_by, job.mode, job.original_name) == (lead, "valid_rows", "客户.xlsx")
    assert DBTaskResult.objects.filter(args_kwargs__kwargs__job_id=job.pk).count() == 1
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "客户.xlsx" in page.content.decode()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_job_page_shows_the_outcome_after_the_worker_ran(tmp_path, make_user):
    lead = make_user(Role.LEAD)
    path = write_xlsx(
        tmp_path / "客户.xlsx", [HEADERS, template_row(customer_no="KH9", name="坏", phone="110")]
    )
    client = client_for(lead)
    with path.open("rb") as handle:
        response = client.post("/customers/import/", {"file": handle, "mode": "all_or_nothing"})

    run_worker()

    html = client.get(response["Location"]).content.decode()
    assert "1 行有错误，按“全部成功才导入”模式未导入任何数据" in html
    cells = re.findall(r"<td[^>]*>(.*?)</td>", html.split("错误明细", 1)[1])
    assert cells == ["2", "电话", "电话号码无效：110"]


@pytest.mark.django_db
def test_agent_may_not_import(tmp_path, make_user, media_root):
    path = write_xlsx(tmp_path / "客户.xlsx", [HEADERS, *GOOD_ROWS])
    with path.open("rb") as handle:
        response = client_for(make_user(Role.AGENT)).post("/customers/import/", {"file": handle})
    assert response.status_code == 403
    assert ImportJob.objects.count() == 0
    assert DBTaskResult.objects.count() == 0
    assert not media_root.exists() or not any(media_root.rglob("*.xlsx"))


@pytest.mark.django_db
def test_another_users_job_is_not_found(tmp_path, make_user):
    path = write_xlsx(tmp_path / "客户.xlsx", [HEADERS, *GOOD_ROWS])
    job = import_job_create(actor=make_user(Role.LEAD), upload=upload(path), mode=ImportMode.VALID_ROWS)
    response = client_for(make_user(Role.LEAD)).get(f"/customers/import/{job.public_id}/")
    assert response.status_code == 404


@pytest.mark.django_db
def test_post_without_a_file_is_422_naming_the_problem(make_user):
    response = client_for(make_user(Role.LEAD)).post("/customers/import/", {"mode": "valid_rows"})
    assert response.status_code == 422
    assert "请选择要导入的文件" in response.content.decode()
    assert ImportJob.objects.count() == 0


@pytest.mark.django_db
def test_post_with_a_txt_file_is_422_naming_the_problem(tmp_path, make_user):
    path = tmp_path / "客户.txt"
    path.write_text("客户编号,客户名称\nKH1,甲\n", encoding="utf-8")
    with path.open("rb") as handle:
        response = client_for(make_user(Role.LEAD)).post("/customers/import/", {"file": handle})
    assert response.status_code == 422
    assert "不支持的文件类型 .txt：请上传 .xlsx 或 .csv" in response.content.decode()
    assert ImportJob.objects.count() == 0
    assert DBTaskResult.objects.count() == 0
