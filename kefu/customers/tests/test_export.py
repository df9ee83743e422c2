"""Customer export: template headers, masking by permission, formula neutralising, audit, round trip."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import cast

import pytest
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.utils import translation
from openpyxl import load_workbook

from kefu.accounts.enums import Role
from kefu.core.actors import SYSTEM
from kefu.core.models import AuditAction, AuditEvent
from kefu.customers.enums import ContactChannel, ImportMode, Tier
from kefu.customers.exporting import export_customers
from kefu.customers.importing import import_customers
from kefu.customers.models import Contact, Customer, Segment
from kefu.customers.tests.factories import ContactFactory, CustomerFactory
from kefu.customers.tests.test_import import GOOD_ROWS, HEADERS, write_xlsx

pytestmark = pytest.mark.django_db


def read_xlsx(source: Path | bytes) -> list[list[str]]:
    workbook = load_workbook(io.BytesIO(source) if isinstance(source, bytes) else source, read_only=True)
    rows = [
        ["" if v is None else str(v) for v in row]
        for row in workbook.worksheets[0].iter_rows(values_only=True)
    ]
    workbook.close()
    return rows


def as_dicts(rows: list[list[str]]) -> list[dict[str, str]]:
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


@pytest.fixture
def customers(db):
    """Two customers as an import would create them (the second without a contact)."""
    cold = cast(
        Customer,
        CustomerFactory(customer_no="KH000001", name="上海冷运物流有限公司", tier=Tier.VIP, city="上海"),
    )
    cold.segments.set(Segment.objects.filter(code__in=["cold-chain", "pharma"]))
    ContactFactory(
        customer=cold,
        name="王小明",
        title="物流经理",
        phone="+8613812345678",
        phone_rev="8765432183168",
        email="wang@example.cn",
        wechat_id="wx_wang",
        preferred_channel=ContactChannel.WECHAT,
        quiet_hours_start=dt.time(22, 0),
        quiet_hours_end=dt.time(8, 0),
    )
    lone = CustomerFactory(customer_no="KH000002", name="李四", kind="consumer", address="")
    return cold, lone


def test_web_export_for_a_lead_is_unmasked_with_template_headers(customers, make_user):
    lead = make_user(Role.LEAD)
    client = Client()
    client.force_login(lead)

    response = client.get("/customers/export.xlsx")

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="customers.xlsx"'
    rows = read_xlsx(response.getvalue())
    assert rows[0] == HEADERS
    assert as_dicts(rows) == [
        {
            "客户编号": "KH000001",
            "客户名称": "上海冷运物流有限公司",
            "客户类型": "企业",
            "客户等级": "VIP",
            "客户细分": "冷链、医药",
            "省份": "上海",
            "城市": "上海",
            "地址": "上海市浦东新区张江路88号3号楼1202室",
            "联系人": "王小明",
            "职务": "物流经理",
            "电话": "138 1234 5678",
            "邮箱": "wang@example.cn",
            "微信号": "wx_wang",
            "首选渠道": "微信",
            "免打扰时段": "22:00-08:00",
        },
        {
            "客户编号": "KH000002",
            "客户名称": "李四",
            "客户类型": "个人",
            "客户等级": "普通",
            "客户细分": "",
            "省份": "上海",
            "城市": "上海",
            "地址": "",
            "联系人": "",
            "职务": "",
            "电话": "",
            "邮箱": "",
            "微信号": "",
            "首选渠道": "",
            "免打扰时段": "",
        },
    ]
    event = AuditEvent.objects.get(action=AuditAction.EXPORT)
    assert (event.actor, event.changes) == (lead, {"customers": [None, 2], "unmasked": [None, True]})


def test_web_export_without_personal_data_permission_is_masked(customers, make_user):
    analyst = make_user(Role.ANALYST)  # may export, may not see personal data
    client = Client()
    client.force_login(analyst)

    response = client.get("/customers/export.xlsx")

    assert response.status_code == 200
    first = as_dicts(read_xlsx(response.getvalue()))[0]
    assert first["电话"] == "138******78"
    assert first["联系人"] == "王*明"
    assert first["邮箱"] == "w***@example.cn"
    assert first["微信号"] == "w******"
    assert first["地址"] == "上海市浦东新区张江路88号3号楼****"
    assert first["客户名称"] == "上海冷运物流有限公司"  # an organization's name is not personal data
    event = AuditEvent.objects.get(action=AuditAction.EXPORT)
    assert (event.actor, event.changes["unmasked"]) == (analyst, [None, False])


def test_agent_may_not_export_on_the_web(customers, make_user):
    client = Client()
    client.force_login(make_user(Role.AGENT))
    assert client.get("/customers/export.xlsx").status_code == 403
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT).exists()


def test_export_masks_for_an_agent(tmp_path, customers, make_user):
    agent = make_user(Role.AGENT)
    count = export_customers(tmp_path / "out.xlsx", actor=agent, queryset=Customer.objects.all())
    assert count == 2
    first = as_dicts(read_xlsx(tmp_path / "out.xlsx"))[0]
    assert (first["电话"], first["联系人"]) == ("138******78", "王*明")


def test_export_search_filters_apply(customers, make_user):
    client = Client()
    client.force_login(make_user(Role.LEAD))
    response = client.get("/customers/export.xlsx", {"tier": "vip"})
    rows = read_xlsx(response.getvalue())
    assert [row[0] for row in rows[1:]] == ["KH000001"]


def test_formula_like_cells_are_neutralised(tmp_path, make_user):
    customer = CustomerFactory(
        customer_no="KH000010",
        name='=HYPERLINK("http://evil.example","点我")',
        province="+cmd|' /C calc'!A0",
        city="-2+3",
        address="@SUM(1+1)*cmd|' /C calc'!A0",
    )
    ContactFactory(customer=customer, name="王小明", title="=1+1", wechat_id="-wx")

    export_customers(tmp_path / "out.xlsx", actor=make_user(Role.LEAD), queryset=Customer.objects.all())

    workbook = load_workbook(tmp_path / "out.xlsx")  # not read-only: see each cell's type
    sheet = workbook.worksheets[0]
    row = {sheet.cell(1, i).value: sheet.cell(2, i) for i in range(1, sheet.max_column + 1)}
    assert row["客户名称"].value == '\'=HYPERLINK("http://evil.example","点我")'
    assert row["省份"].value == "'+cmd|' /C calc'!A0"
    assert row["城市"].value == "'-2+3"
    assert row["地址"].value == "'@SUM(1+1)*cmd|' /C calc'!A0"
    assert row["职务"].value == "'=1+1"
    assert row["微信号"].value == "'-wx"
    assert all(cell.data_type == "s" for cell in row.values() if cell.value is not None)


def test_neutralised_cells_reimport_to_the_original_values(tmp_path, make_user):
    lead = make_user(Role.LEAD)
    customer = cast(Customer, CustomerFactory(customer_no="KH000011", name="=1+1 物流", city="-上海-"))
    ContactFactory(customer=customer, name="王小明", phone="+12025550143", phone_rev="34105552021")
    export_customers(tmp_path / "out.xlsx", actor=lead, queryset=Customer.objects.all())
    rows = read_xlsx(tmp_path / "out.xlsx")
    assert rows[1][HEADERS.index("电话")] == "'+1 202-555-0143"

    result = import_customers(
        tmp_path / "out.xlsx", filename="out.xlsx", mode=ImportMode.ALL_OR_NOTHING, actor=lead
    )

    assert result.errors == []
    assert (result.created, result.updated, result.unchanged) == (0, 0, 1)
    customer.refresh_from_db()
    assert (customer.name, customer.city) == ("=1+1 物流", "-上海-")
    assert customer.contacts.get().phone == "+12025550143"


def test_control_characters_do_not_break_the_export(tmp_path, make_user):
    CustomerFactory(customer_no="KH000012", name="甲\x01乙")
    export_customers(tmp_path / "out.xlsx", actor=make_user(Role.LEAD), queryset=Customer.objects.all())
    assert read_xlsx(tmp_path / "out.xlsx")[1][1] == "甲乙"


def test_export_writes_one_row_per_customer_with_its_primary_contact(tmp_path, make_user):
    customer = CustomerFactory(customer_no="KH000013")
    ContactFactory(customer=customer, name="副联系人", is_primary=False)
    ContactFactory(customer=customer, name="主联系人", is_primary=True)
    export_customers(tmp_path / "out.xlsx", actor=make_user(Role.LEAD), queryset=Customer.objects.all())
    rows = read_xlsx(tmp_path / "out.xlsx")
    assert len(rows) == 2
    assert rows[1][HEADERS.index("联系人")] == "主联系人"


def test_system_export_is_masked_and_audited(tmp_path, customers):
    export_customers(tmp_path / "out.xlsx", actor=SYSTEM, queryset=Customer.objects.all())
    assert as_dicts(read_xlsx(tmp_path / "out.xlsx"))[0]["电话"] == "138******78"
    event = AuditEvent.objects.get(action=AuditAction.EXPORT)
    assert (event.actor, event.actor_kind, event.actor_label) == (None, "system", "system")
    assert event.content_type == ContentType.objects.get_for_model(ContentType)
    assert event.changes == {"customers": [None, 2], "unmasked": [None, False]}


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_round_trip_reimports_cleanly(tmp_path, make_user, language):
    lead = make_user(Role.LEAD)
    first = import_customers(
        write_xlsx(tmp_path / "in.xlsx", [HEADERS, *GOOD_ROWS]),
        filename="in.xlsx",
        mode="all_or_nothing",
        actor=lead,
    )
    assert (first.created, first.errors) == (3, [])
    customers_before = list(Customer.objects.order_by("pk").values())
    contacts_before = list(Contact.objects.order_by("pk").values())
    with translation.override(language):  # the exporting user's UI language
        assert export_customers(tmp_path / "out.xlsx", actor=lead, queryset=Customer.objects.all()) == 3
    assert read_xlsx(tmp_path / "out.xlsx")[0] == HEADERS
    events = AuditEvent.objects.count()

    again = import_customers(tmp_path / "out.xlsx", filename="out.xlsx", mode="all_or_nothing", actor=lead)

    assert again.errors == []
    assert (again.total_rows, again.created, again.updated, again.unchanged) == (3, 0, 0, 3)
    assert list(Customer.objects.order_by("pk").values()) == customers_before
    assert list(Contact.objects.order_by("pk").values()) == contacts_before
    assert AuditEvent.objects.count() == events
