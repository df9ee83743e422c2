"""Messages follow the language: API errors by ``Accept-Language`` (zh-hans by default), import jobs by
the language of the request that queued them, even though the worker that runs them has none."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from kefu.accounts.enums import Role
from kefu.customers.enums import ImportMode, ImportStatus
from kefu.customers.import_jobs import import_job_create
from kefu.customers.importing import import_job_run
from kefu.customers.models import Customer, ImportJob
from kefu.customers.tests.test_import import HEADERS, template_row, write_csv

BAD_PHONE = {"name": "甲公司", "contacts": [{"name": "王", "phone": "12345"}]}


@pytest.fixture
def lead(make_user):
    return make_user(Role.LEAD)


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """LocaleMiddleware leaves the last request's language active in the thread: start and end each
    test in the default language."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def media_root(tmp_path, settings) -> Path:
    root: Path = tmp_path / "media"
    settings.MEDIA_ROOT = root
    return root


def test_api_validation_error_in_english(api_as, lead):
    response = api_as(lead).post("/customers", BAD_PHONE, headers={"Accept-Language": "en"})

    assert response.status_code == 422, response.content
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["message"] == "The customer details are invalid"
    assert body["fields"] == {"contacts.0.phone": ["Invalid phone number: 12345"]}
    assert response["Content-Language"] == "en"


def test_api_validation_error_in_chinese_by_default(api_as, lead):
    response = api_as(lead).post("/customers", BAD_PHONE)

    assert response.status_code == 422, response.content
    body = response.json()
    assert body["message"] == "客户信息有误"
    assert body["fields"] == {"contacts.0.phone": ["电话号码无效：12345"]}


def test_api_error_outside_the_services_in_english(api_as, lead):
    anonymous = api_as(None).get("/customers", headers={"Accept-Language": "en"})
    assert anonymous.status_code == 401
    assert anonymous.json()["message"] == "Sign-in or a valid API token is required"

    bad_cursor = api_as(lead).get("/customers?cursor=%%%", headers={"Accept-Language": "en"})
    assert bad_cursor.status_code == 422
    assert bad_cursor.json()["fields"] == {"cursor": ["Invalid pagination cursor"]}

    missing = api_as(lead).get("/customers/nope", headers={"Accept-Language": "en"})
    assert missing.status_code == 404
    assert missing.json()["message"] == "Customer not found"


def _bad_file(tmp_path: Path) -> SimpleUploadedFile:
    path = write_csv(
        tmp_path / "customers.csv",
        [
            HEADERS,
            template_row(customer_no="KH200001", name="甲公司", phone="13812345678"),
            template_row(customer_no="KH200002", name="乙公司", phone="110", tier="gold"),
        ],
    )
    return SimpleUploadedFile(path.name, path.read_bytes())


@pytest.mark.django_db
def test_import_job_queued_in_english_reports_in_english(tmp_path, lead):
    with translation.override("en"):
        job = import_job_create(actor=lead, upload=_bad_file(tmp_path), mode=ImportMode.VALID_ROWS)
    assert job.language == "en"

    # The worker has no request language; the job's own language applies.
    import_job_run(ImportJob.objects.get(pk=job.pk))

    job.refresh_from_db()
    assert job.status == ImportStatus.DONE
    assert job.errors == [
        {"row": 3, "column": "客户等级", "reason": "Unrecognized value 'gold'"},
        {"row": 3, "column": "电话", "reason": "Invalid phone number: 110"},
    ]
    assert job.message == "Created 1, updated 0, unchanged 0, 1 row(s) with errors, 0 empty row(s) skipped"
    assert list(Customer.objects.values_list("customer_no", flat=True)) == ["KH200001"]
    assert translation.get_language() == "zh-hans"  # the override ended with the job


@pytest.mark.django_db
def test_import_job_queued_in_english_rejects_a_file_in_english(tmp_path, lead):
    path = write_csv(tmp_path / "customers.csv", [["客户编号", "颜色"], ["KH1", "红"]])
    with translation.override("en"):
        job = import_job_create(
            actor=lead,
            upload=SimpleUploadedFile(path.name, path.read_bytes()),
            mode=ImportMode.ALL_OR_NOTHING,
        )

    import_job_run(ImportJob.objects.get(pk=job.pk))

    job.refresh_from_db()
    assert job.status == ImportStatus.REJECTED
    assert job.message == (
        "The header row does not match the template: Missing required columns: 客户名称; "
        "Unrecognized columns: 颜色"
    )
    assert {e["column"] for e in job.errors} == {"Header row"}


@pytest.mark.django_db
def test_import_job_queued_without_a_language_reports_in_chinese(tmp_path, lead):
    job = import_job_create(actor=lead, upload=_bad_file(tmp_path), mode=ImportMode.ALL_OR_NOTHING)
    assert job.language == "zh-hans"

    with translation.override("en"):  # whatever the worker's own language
        import_job_run(ImportJob.objects.get(pk=job.pk))

    job.refresh_from_db()
    assert job.status == ImportStatus.REJECTED
    assert {"row": 3, "column": "电话", "reason": "电话号码无效：110"} in job.errors
    assert job.message == "1 行有错误，按“全部成功才导入”模式未导入任何数据"
