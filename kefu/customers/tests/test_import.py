"""Customer import from real .xlsx / .csv files: what a user sees in the report, what lands in the DB."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from kefu.accounts.enums import Role
from kefu.core.actors import SYSTEM
from kefu.core.errors import ValidationFailed
from kefu.core.models import AuditAction, AuditEvent
from kefu.customers import services
from kefu.customers.enums import ContactChannel, CustomerKind, CustomerSource, ImportMode, Tier
from kefu.customers.importing import COLUMNS, ImportFileError, ImportResult, RowError, import_customers
from kefu.customers.models import Contact, Customer

pytestmark = pytest.mark.django_db

HEADERS = [c.header for c in COLUMNS]  # the Chinese template
KEYS = [c.key for c in COLUMNS]  # the English keys


def template_row(**values: Any) -> list[Any]:
    """One data row in template column order; unnamed columns are empty."""
    unknown = set(values) - set(KEYS)
    assert not unknown, unknown
    return [values.get(key, "") for key in KEYS]


def write_xlsx(path: Path, rows: list[list[Any]]) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def write_csv(path: Path, rows: list[list[Any]], encoding: str = "utf-8-sig") -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def run(path: Path, mode: str = ImportMode.ALL_OR_NOTHING, actor: Any = SYSTEM) -> ImportResult:
    return import_customers(path, filename=path.name, mode=mode, actor=actor)


def file_error(path: Path) -> ImportFileError:
    with pytest.raises(ImportFileError) as info:
        run(path)
    return info.value


GOOD_ROWS = [
    template_row(
        customer_no="KH100001",
        name="上海冷运物流有限公司",
        kind="企业",
        tier="VIP",
        segments="冷链、跨境",
        province="上海",
        city="上海",
        address="上海市浦东新区张江路88号3号楼1202室",
        contact_name="王小明",
        contact_title="物流经理",
        phone="138 1234 5678",
        email="Wang.XM@Example.cn",
        wechat_id="wx_wangxm",
        preferred_channel="微信",
        quiet_hours="22:00-08:00",
    ),
    template_row(
        customer_no="KH100002",
        name="李四",
        kind="个人",
        tier="普通",
        segments="ecommerce",
        province="广东",
        city="深圳",
        phone=13987654321,  # a number cell, as Excel stores a typed phone number
    ),
    template_row(
        customer_no="KH100003",
        name="杭州医药冷链有限公司",
        kind="企业客户",
        tier="核心",
        segments="pharma;cold-chain",
        contact_name="赵敏",
        phone="+86-21-6888-8888",
        quiet_hours="12:00~13:30",
    ),
]


@pytest.fixture
def lead(make_user):
    return make_user(Role.LEAD, username="lead1", full_name="组长甲")


# --- a good file --------------------------------------------------------------------------------


def test_good_xlsx_creates_customers_and_contacts(tmp_path, lead):
    path = write_xlsx(tmp_path / "客户.xlsx", [HEADERS, *GOOD_ROWS])

    result = run(path, actor=lead)

    assert result.errors == []
    assert (result.total_rows, result.created, result.updated, result.skipped_empty) == (3, 3, 0, 0)
    assert result.committed is True
    assert Customer.objects.count() == 3
    assert Contact.objects.count() == 3

    first = Customer.objects.get(customer_no="KH100001")
    assert first.name == "上海冷运物流有限公司"
    assert first.kind == CustomerKind.ORGANIZATION
    assert first.tier == Tier.VIP
    assert first.source == CustomerSource.IMPORT
    assert (first.province, first.city) == ("上海", "上海")
    assert first.address == "上海市浦东新区张江路88号3号楼1202室"
    assert sorted(first.segments.values_list("code", flat=True)) == ["cold-chain", "cross-border"]
    contact = first.contacts.get()
    assert contact.name == "王小明"
    assert contact.title == "物流经理"
    assert contact.phone == "+8613812345678"
    assert contact.phone_rev == "8765432183168"
    assert contact.email == "wang.xm@example.cn"
    assert contact.wechat_id == "wx_wangxm"
    assert contact.preferred_channel == ContactChannel.WECHAT
    assert (contact.quiet_hours_start, contact.quiet_hours_end) == (dt.time(22, 0), dt.time(8, 0))
    assert contact.is_primary is True

    second = Customer.objects.get(customer_no="KH100002")
    assert second.kind == CustomerKind.CONSUMER
    assert second.tier == Tier.STANDARD
    assert list(second.segments.values_list("code", flat=True)) == ["ecommerce"]
    only = second.contacts.get()
    assert only.name == "李四"  # no contact name: the customer's own name
    assert only.phone == "+8613987654321"
    assert only.preferred_channel == ContactChannel.PHONE
    assert only.quiet_hours_start is None

    third = Customer.objects.get(customer_no="KH100003")
    assert third.tier == Tier.CORE
    assert sorted(third.segments.values_list("code", flat=True)) == ["cold-chain", "pharma"]
    landline = third.contacts.get()
    assert landline.phone == "+862168888888"
    assert (landline.quiet_hours_start, landline.quiet_hours_end) == (dt.time(12, 0), dt.time(13, 30))

    # Every write is audited with the importing user.
    created = AuditEvent.objects.filter(action=AuditAction.CREATE, actor=lead)
    assert created.filter(object_repr="上海冷运物流有限公司 (KH100001)").count() == 1
    assert created.filter(object_repr="王小明").count() == 1


def test_english_header_keys_in_utf8_bom_csv(tmp_path):
    rows = [
        ["customer_no", "name", "kind", "tier", "segments", "phone", "email", "preferred_channel", "quiet_hours"],
        ["KH200001", "Acme Logistics", "organization", "core", "cold-chain, cross-border", "+1 202 555 0143",
         "ops@acme.example", "email", "21:30 - 07:00"],
    ]  # fmt: skip
    path = write_csv(tmp_path / "customers.csv", rows, encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbfcustomer_no,")

    result = run(path)

    assert result.errors == []
    assert result.created == 1
    customer = Customer.objects.get(customer_no="KH200001")
    assert (customer.name, customer.kind, customer.tier) == ("Acme Logistics", "organization", "core")
    assert sorted(customer.segments.values_list("code", flat=True)) == ["cold-chain", "cross-border"]
    contact = customer.contacts.get()
    assert contact.phone == "+12025550143"
    assert contact.preferred_channel == ContactChannel.EMAIL
    assert (contact.quiet_hours_start, contact.quiet_hours_end) == (dt.time(21, 30), dt.time(7, 0))


def test_headers_match_case_insensitively_and_in_any_order(tmp_path):
    rows = [[" Phone ", "NAME", "客户编号"], ["13812345678", "顺丰小件", "KH300001"]]
    result = run(write_csv(tmp_path / "a.csv", rows))
    assert result.errors == []
    assert Customer.objects.get(customer_no="KH300001").contacts.get().phone == "+8613812345678"


def test_gbk_encoded_csv_imports_correctly(tmp_path):
    rows = [
        ["客户编号", "客户名称", "客户类型", "客户等级", "客户细分", "城市", "联系人", "电话", "免打扰时段"],
        ["KH400001", "广州跨境电商物流有限公司", "企业", "核心", "跨境、电商", "广州", "陈静", "020-8888 6666",
         "22:00-08:00"],
    ]  # fmt: skip
    path = write_csv(tmp_path / "gbk.csv", rows, encoding="gbk")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")  # really GBK, not UTF-8

    result = run(path)

    assert result.errors == []
    customer = Customer.objects.get(customer_no="KH400001")
    assert customer.name == "广州跨境电商物流有限公司"
    assert customer.city == "广州"
    assert sorted(customer.segments.values_list("code", flat=True)) == ["cross-border", "ecommerce"]
    contact = customer.contacts.get()
    assert (contact.name, contact.phone) == ("陈静", "+862088886666")


# --- re-import ------------------------------------------------------------------------------------


def test_reimport_updates_by_customer_number_and_audits_the_change(tmp_path, lead):
    path = write_xlsx(tmp_path / "客户.xlsx", [HEADERS, *GOOD_ROWS])
    run(path, actor=lead)
    customer = Customer.objects.get(customer_no="KH100001")
    contact = customer.contacts.get()
    events_before = AuditEvent.objects.count()

    changed = [row[:] for row in GOOD_ROWS]
    changed[0][KEYS.index("tier")] = "核心"
    changed[0][KEYS.index("contact_title")] = "运营总监"
    path = write_xlsx(tmp_path / "客户-修改.xlsx", [HEADERS, *changed])
    result = run(path, actor=lead)

    assert result.errors == []
    assert (result.created, result.updated, result.unchanged) == (0, 1, 2)
    assert Customer.objects.count() == 3
    assert Contact.objects.count() == 3
    customer.refresh_from_db()
    assert customer.tier == Tier.CORE
    assert customer.version == 2
    assert customer.contacts.get().pk == contact.pk
    assert customer.contacts.get().title == "运营总监"

    new_events = AuditEvent.objects.order_by("id")[events_before:]
    assert [(e.action, e.object_repr, e.changes, e.actor_id) for e in new_events] == [
        (AuditAction.UPDATE, "上海冷运物流有限公司 (KH100001)", {"tier": ["vip", "core"]}, lead.pk),
        (AuditAction.UPDATE, "王小明", {"title": ["物流经理", "运营总监"]}, lead.pk),
    ]


def test_reimporting_the_same_file_changes_nothing(tmp_path):
    path = write_xlsx(tmp_path / "客户.xlsx", [HEADERS, *GOOD_ROWS])
    run(path)
    events = AuditEvent.objects.count()

    result = run(path)

    assert (result.created, result.updated, result.unchanged, result.errors) == (0, 0, 3, [])
    assert Customer.objects.count() == 3
    assert Contact.objects.count() == 3
    assert AuditEvent.objects.count() == events


def test_reimport_matches_contact_by_phone_else_by_name(tmp_path):
    header = ["客户编号", "客户名称", "联系人", "电话"]
    run(write_csv(tmp_path / "1.csv", [header, ["KH500001", "甲公司", "王小明", "13812345678"]]))
    contact = Contact.objects.get()

    # Same phone, new name: the same contact, renamed.
    run(write_csv(tmp_path / "2.csv", [header, ["KH500001", "甲公司", "王晓明", "+86 138-1234-5678"]]))
    # Same name, new phone: the same contact, new number.
    run(write_csv(tmp_path / "3.csv", [header, ["KH500001", "甲公司", "王晓明", "13900001111"]]))

    assert Contact.objects.count() == 1
    contact.refresh_from_db()
    assert (contact.name, contact.phone) == ("王晓明", "+8613900001111")

    # A different name and phone is a second contact of the same customer, now the primary one.
    result = run(write_csv(tmp_path / "4.csv", [header, ["KH500001", "甲公司", "李雷", "13700002222"]]))
    assert (result.created, result.updated) == (0, 1)
    assert Customer.objects.count() == 1
    assert list(Contact.objects.order_by("id").values_list("name", "is_primary")) == [
        ("王晓明", False),
        ("李雷", True),
    ]


# --- bad files --------------------------------------------------------------------------------------


def test_missing_required_column_is_a_file_error_naming_it(tmp_path):
    path = write_xlsx(tmp_path / "a.xlsx", [["客户编号", "电话"], ["KH1", "13812345678"]])
    error = file_error(path)
    assert error.message == "表头不符合模板：缺少必填列：客户名称"
    assert error.fields == {"columns": ["缺少必填列：客户名称"]}
    assert Customer.objects.count() == 0


def test_unknown_column_is_a_file_error_naming_it(tmp_path):
    path = write_xlsx(tmp_path / "a.xlsx", [["客户编号", "客户名称", "传真", "QQ"], ["KH1", "甲", "x", "y"]])
    error = file_error(path)
    assert error.message == "表头不符合模板：无法识别的列：传真、QQ"
    assert Customer.objects.count() == 0


def test_a_column_given_twice_is_a_file_error(tmp_path):
    path = write_csv(tmp_path / "a.csv", [["客户编号", "客户名称", "电话", "phone"], ["KH1", "甲", "1", "2"]])
    assert file_error(path).message == "表头不符合模板：重复的列：phone"


def test_bad_phone_is_reported_by_row_and_column(tmp_path):
    rows = [
        HEADERS,
        template_row(customer_no="KH1", name="甲", phone="13812345678"),
        template_row(customer_no="KH2", name="乙", phone="12345"),
        template_row(customer_no="KH3", name="丙", phone="电话号码"),
    ]
    result = run(write_xlsx(tmp_path / "a.xlsx", rows), mode=ImportMode.VALID_ROWS)
    assert result.errors == [
        RowError(3, "电话", "电话号码无效：12345"),
        RowError(4, "电话", "电话号码无效：电话号码"),
    ]
    assert result.error_rows == 2
    assert list(Customer.objects.values_list("customer_no", flat=True)) == ["KH1"]


def test_every_bad_value_is_reported_with_its_column_and_reason(tmp_path):
    rows = [
        HEADERS,
        template_row(customer_no="KH1", name="", kind="公司", tier="金牌", phone="13812345678"),
        template_row(customer_no="KH 2", name="乙", segments="冷链、航空", email="not-an-email"),
        template_row(customer_no="KH3", name="丙", phone="13812345678", preferred_channel="飞鸽"),
        template_row(customer_no="KH4", name="丁", phone="13812345678", quiet_hours="晚上"),
        template_row(customer_no="KH5", name="戊", contact_name="无联系方式"),
        template_row(customer_no="KH6", name="己", phone="13812345678", quiet_hours="25:00-08:00"),
    ]
    result = run(write_xlsx(tmp_path / "a.xlsx", rows))
    assert result.errors == [
        RowError(2, "客户名称", "必填"),
        RowError(2, "客户类型", "无法识别的值 '公司'"),
        RowError(2, "客户等级", "无法识别的值 '金牌'"),
        RowError(3, "客户编号", "客户编号 'KH 2' 无效：1-32 位字母、数字、- 或 _"),
        RowError(3, "客户细分", "未知的客户细分：航空"),
        RowError(3, "邮箱", "邮箱地址无效：not-an-email"),
        RowError(4, "首选渠道", "无法识别的值 '飞鸽'"),
        RowError(5, "免打扰时段", "格式应为 22:00-08:00，实际 '晚上'"),
        RowError(6, "电话", "电话、邮箱、微信号至少填写一项"),
        RowError(7, "免打扰时段", "格式应为 22:00-08:00，实际 '25:00-08:00'"),
    ]
    assert Customer.objects.count() == 0


def test_duplicate_customer_number_in_the_file_rejects_the_second_row(tmp_path):
    rows = [
        HEADERS,
        template_row(customer_no="KH1", name="甲", phone="13812345678"),
        template_row(customer_no="KH2", name="乙", phone="13812345679"),
        template_row(customer_no="KH1", name="甲（重复）", phone="13812345670"),
    ]
    result = run(write_xlsx(tmp_path / "a.xlsx", rows), mode=ImportMode.VALID_ROWS)
    assert result.errors == [RowError(4, "客户编号", "与第 2 行重复：KH1")]
    assert Customer.objects.get(customer_no="KH1").name == "甲"
    assert Customer.objects.count() == 2


def test_duplicate_of_a_rejected_row_is_still_a_duplicate(tmp_path):
    rows = [
        HEADERS,
        template_row(customer_no="KH1", name="甲", phone="12345"),
        template_row(customer_no="KH1", name="甲", phone="13812345678"),
    ]
    result = run(write_xlsx(tmp_path / "a.xlsx", rows), mode=ImportMode.VALID_ROWS)
    assert result.errors == [
        RowError(2, "电话", "电话号码无效：12345"),
        RowError(3, "客户编号", "与第 2 行重复：KH1"),
    ]
    assert Customer.objects.count() == 0


def test_empty_rows_are_skipped_and_counted_not_errors(tmp_path):
    rows = [
        HEADERS,
        template_row(customer_no="KH1", name="甲", phone="13812345678"),
        [None] * len(HEADERS),
        template_row(),  # all cells empty strings
        template_row(customer_no="KH2", name="乙", phone="123"),
    ]
    result = run(write_xlsx(tmp_path / "a.xlsx", rows), mode=ImportMode.VALID_ROWS)
    assert result.skipped_empty == 2
    assert result.total_rows == 2
    assert result.errors == [RowError(5, "电话", "电话号码无效：123")]  # the spreadsheet's row number
    assert result.created == 1


def test_blank_lines_in_a_csv_are_skipped(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("客户编号,客户名称,电话\r\n\r\nKH1,甲,13812345678\r\n,,\r\n\r\n", encoding="utf-8")
    result = run(path)
    assert (result.total_rows, result.skipped_empty, result.created, result.errors) == (1, 3, 1, [])


def test_formula_cells_are_rejected(tmp_path):
    rows = [
        HEADERS,
        template_row(customer_no="KH1", name="甲", city="=SUM(A1)", phone="13812345678"),
        template_row(customer_no="KH2", name='=HYPERLINK("http://evil.example","点我")', phone="13812345679"),
    ]
    path = write_xlsx(tmp_path / "a.xlsx", rows)
    result = run(path, mode=ImportMode.VALID_ROWS)
    assert result.errors == [
        RowError(2, "城市", "单元格包含公式，请粘贴为数值"),
        RowError(3, "客户名称", "单元格包含公式，请粘贴为数值"),
    ]
    assert Customer.objects.count() == 0


def test_formula_in_a_csv_is_rejected(tmp_path):
    path = write_csv(tmp_path / "a.csv", [["客户编号", "客户名称", "电话"], ["KH1", "=1+2", "13812345678"]])
    assert run(path).errors == [RowError(2, "客户名称", "单元格包含公式，请粘贴为数值")]


def test_control_characters_are_dropped(tmp_path):
    path = write_csv(
        tmp_path / "a.csv", [["客户编号", "客户名称", "电话"], ["KH1", "甲\x00乙\x07公司", "13812345678"]]
    )
    assert run(path).errors == []
    assert Customer.objects.get().name == "甲乙公司"


def test_file_over_the_size_limit_is_refused_before_reading(tmp_path, settings):
    settings.KEFU_IMPORT_MAX_BYTES = 1024
    path = write_csv(
        tmp_path / "big.csv", [["客户编号", "客户名称"]] + [[f"KH{i}", "甲"] for i in range(200)]
    )
    assert path.stat().st_size > 1024
    error = file_error(path)
    assert error.message.endswith("超过上限 0 MB：请拆分后再导入")
    assert error.fields == {"file": ["文件过大"]}


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_file_over_the_row_limit_is_refused_before_any_row_is_validated(tmp_path, settings, suffix):
    settings.KEFU_IMPORT_MAX_ROWS = 100
    # Every row is invalid (bad phone): the only error must be the limit, not 101 row errors.
    rows = [HEADERS] + [template_row(customer_no=f"KH{i}", name="甲", phone="123") for i in range(101)]
    path = (write_xlsx if suffix == ".xlsx" else write_csv)(tmp_path / f"big{suffix}", rows)
    error = file_error(path)
    assert error.message == "文件多于 100 行数据，超过每次导入的上限：请拆分后再导入"
    assert error.fields == {"file": ["行数超过上限 100"]}
    assert Customer.objects.count() == 0


def test_file_at_the_row_limit_is_imported_and_empty_rows_do_not_count(tmp_path, settings):
    settings.KEFU_IMPORT_MAX_ROWS = 3
    rows = [HEADERS, *GOOD_ROWS, [None] * len(HEADERS), template_row()]
    result = run(write_xlsx(tmp_path / "a.xlsx", rows))
    assert (result.total_rows, result.skipped_empty, result.created, result.errors) == (3, 2, 3, [])


def test_sparse_50_mb_file_is_refused(tmp_path):
    path = tmp_path / "big.csv"
    with path.open("wb") as handle:
        handle.write("客户编号,客户名称\r\nKH1,甲\r\n".encode())
        handle.truncate(50 * 1024 * 1024 + 1)
    error = file_error(path)
    assert error.message.startswith("文件 50.0 MB，超过上限")
    assert Customer.objects.count() == 0


def test_real_50_mb_file_is_refused(tmp_path):
    path = tmp_path / "big.csv"
    line = b"KH1,\xe7\x94\xb2,13812345678\r\n"
    with path.open("wb") as handle:
        handle.write("客户编号,客户名称,电话\r\n".encode())
        block = line * (1024 * 1024 // len(line) + 1)
        while handle.tell() <= 50 * 1024 * 1024:
            handle.write(block)
    assert path.stat().st_size > 50 * 1024 * 1024
    error = file_error(path)
    assert "MB，超过上限" in error.message
    assert Customer.objects.count() == 0


def test_undecodable_bytes_are_a_file_error(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(b"\xff\xfe\x00\x80\xff garbage \xfe\xff")
    error = file_error(path)
    assert error.message == "无法识别文件编码：请另存为 UTF-8 或 GBK 编码的 CSV"


def test_unsupported_extension_is_a_file_error(tmp_path):
    path = tmp_path / "客户.txt"
    path.write_text("客户编号,客户名称\nKH1,甲\n", encoding="utf-8")
    assert file_error(path).message == "不支持的文件类型 .txt：请上传 .xlsx 或 .csv"
    path = tmp_path / "客户.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0" + b"\x00" * 100)
    assert file_error(path).message == "不支持的文件类型 .xls：请上传 .xlsx 或 .csv"


def test_corrupt_xlsx_is_a_file_error(tmp_path):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04 this is not really a zip archive")
    error = file_error(path)
    assert error.message.startswith("无法读取 Excel 文件：")
    assert error.fields == {"file": ["文件损坏或不是 .xlsx"]}

    # A real zip that is not a workbook, and a workbook cut short.
    good = write_xlsx(tmp_path / "good.xlsx", [HEADERS, GOOD_ROWS[0]]).read_bytes()
    (tmp_path / "cut.xlsx").write_bytes(good[: len(good) // 2])
    assert file_error(tmp_path / "cut.xlsx").message.startswith("无法读取 Excel 文件：")


@pytest.mark.parametrize("name", ["empty.csv", "empty.xlsx"])
def test_empty_file_is_a_file_error(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"")
    assert file_error(path).message == "文件是空的：第一行应为表头"


def test_workbook_without_rows_is_a_file_error(tmp_path):
    path = write_xlsx(tmp_path / "blank.xlsx", [])
    assert file_error(path).message == "文件是空的：第一行应为表头"


def test_unknown_mode_is_refused(tmp_path):
    path = write_csv(tmp_path / "a.csv", [["客户编号", "客户名称"], ["KH1", "甲"]])
    with pytest.raises(ImportFileError, match="未知的导入模式 everything"):
        run(path, mode="everything")


# --- modes --------------------------------------------------------------------------------------------


def test_all_or_nothing_with_one_bad_row_writes_nothing(tmp_path, lead):
    run(write_xlsx(tmp_path / "first.xlsx", [HEADERS, GOOD_ROWS[0]]), actor=lead)
    before = (Customer.objects.count(), Contact.objects.count(), AuditEvent.objects.count())
    changed = GOOD_ROWS[0][:]
    changed[KEYS.index("tier")] = "普通"
    rows = [HEADERS, changed, GOOD_ROWS[1], template_row(customer_no="KH9", name="坏", phone="110")]

    result = run(write_xlsx(tmp_path / "a.xlsx", rows), mode=ImportMode.ALL_OR_NOTHING, actor=lead)

    assert result.errors == [RowError(4, "电话", "电话号码无效：110")]
    assert (result.created, result.updated, result.committed) == (0, 0, False)
    assert (Customer.objects.count(), Contact.objects.count(), AuditEvent.objects.count()) == before
    assert Customer.objects.get(customer_no="KH100001").tier == Tier.VIP


def test_all_or_nothing_rolls_back_a_row_that_fails_while_writing(tmp_path, monkeypatch):
    real_create = services.customer_create

    def create(**kwargs: Any) -> Customer:
        if kwargs["customer_no"] == "KH100003":
            raise ValidationFailed("客户信息有误", fields={"segments": ["未知的客户细分：pharma"]})
        return real_create(**kwargs)

    monkeypatch.setattr(services, "customer_create", create)
    result = run(write_xlsx(tmp_path / "a.xlsx", [HEADERS, *GOOD_ROWS]))

    assert result.errors == [RowError(4, "客户细分", "未知的客户细分：pharma")]
    assert (result.created, result.committed) == (0, False)
    assert Customer.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_valid_rows_writes_the_good_rows_and_reports_the_bad(tmp_path, lead):
    rows = [HEADERS, GOOD_ROWS[0], template_row(customer_no="KH9", name="坏", phone="110"), GOOD_ROWS[1]]

    result = run(write_xlsx(tmp_path / "a.xlsx", rows), mode=ImportMode.VALID_ROWS, actor=lead)

    assert result.errors == [RowError(3, "电话", "电话号码无效：110")]
    assert (result.total_rows, result.created, result.error_rows, result.committed) == (3, 2, 1, True)
    assert sorted(Customer.objects.values_list("customer_no", flat=True)) == ["KH100001", "KH100002"]


def test_valid_rows_reports_a_row_that_fails_while_writing(tmp_path, monkeypatch):
    real_create = services.customer_create

    def create(**kwargs: Any) -> Customer:
        if kwargs["customer_no"] == "KH100002":
            raise ValidationFailed("客户信息有误", fields={"contacts.0.phone": ["电话号码无效：x"]})
        return real_create(**kwargs)

    monkeypatch.setattr(services, "customer_create", create)
    result = run(write_xlsx(tmp_path / "a.xlsx", [HEADERS, *GOOD_ROWS]), mode=ImportMode.VALID_ROWS)

    assert result.errors == [RowError(3, "电话", "电话号码无效：x")]
    assert sorted(Customer.objects.values_list("customer_no", flat=True)) == ["KH100001", "KH100003"]


def test_progress_reports_both_phases(tmp_path):
    calls: list[tuple[str, int]] = []
    import_customers(
        write_xlsx(tmp_path / "a.xlsx", [HEADERS, *GOOD_ROWS]),
        filename="a.xlsx",
        mode=ImportMode.VALID_ROWS,
        actor=SYSTEM,
        progress=lambda n: calls.append(("step", n)),
        phase=lambda name, total: calls.append((name, total)),
    )
    assert calls == [("校验", 3), *[("step", 1)] * 3, ("写入", 3), *[("step", 1)] * 3]
