"""An administrator imports a spreadsheet; the real worker processes it while the page polls."""

from __future__ import annotations

import pytest
from openpyxl import Workbook
from playwright.sync_api import expect

from kefu.accounts.enums import Role
from kefu.accounts.tests.factories import UserFactory
from kefu.customers.models import Customer, ImportJob

pytestmark = pytest.mark.browser


def _workbook(path):
    book = Workbook()
    sheet = book.active
    sheet.append(["客户编号", "客户名称", "城市", "地址", "联系人", "电话"])
    sheet.append(
        ["KH-IMP-001", "极速达供应链有限公司", "杭州", "杭州市西湖区文三路100号", "周敏", "13912345678"]
    )
    sheet.append(["KH-IMP-002", "坏数据贸易有限公司", "苏州", "", "吴刚", "12345"])
    book.save(path)
    return path


def test_admin_imports_a_spreadsheet_and_sees_the_report(page, log_in, run_worker, tmp_path):
    admin = UserFactory(role=Role.ADMIN, full_name="系统管理员")
    UserFactory(role=Role.AGENT)  # someone to assign new customers to
    upload = _workbook(tmp_path / "客户名单.xlsx")

    log_in(page, admin)
    page.get_by_role("navigation").get_by_role("link", name="导入").click()
    expect(page).to_have_url(f"{page.url.split('/customers/')[0]}/customers/import/")
    page.locator("input[name=file]").set_input_files(upload)
    page.get_by_label("只导入有效行").check()
    page.get_by_role("button", name="开始导入").click()

    expect(page.get_by_test_id("import-status")).to_have_text("排队中")
    job = ImportJob.objects.get()
    assert job.mode == "valid_rows"
    assert page.url.endswith(f"/customers/import/{job.public_id}/")

    run_worker()

    # The page polls every second and swaps in the finished report without a reload.
    expect(page.get_by_test_id("import-status")).to_have_text("已完成")
    expect(page.get_by_test_id("import-total")).to_have_text("2")
    expect(page.get_by_test_id("import-created")).to_have_text("1")
    expect(page.get_by_test_id("import-updated")).to_have_text("0")
    expect(page.get_by_test_id("import-errors")).to_have_text("1")
    error_rows = page.locator("table.report tbody tr")
    expect(error_rows).to_have_count(1)
    cells = error_rows.first.locator("td")
    expect(cells.nth(0)).to_have_text("3")
    expect(cells.nth(1)).to_have_text("电话")
    expect(cells.nth(2)).to_contain_text("电话号码无效")
    assert Customer.objects.filter(customer_no="KH-IMP-001").exists()
    assert not Customer.objects.filter(customer_no="KH-IMP-002").exists()

    page.get_by_role("navigation").get_by_role("link", name="客户").click()
    expect(page.locator("#customer-rows")).to_contain_text("极速达供应链有限公司")
    expect(page.locator("#customer-rows")).not_to_contain_text("坏数据贸易有限公司")
