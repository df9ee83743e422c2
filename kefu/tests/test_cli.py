"""The ``kefu`` command, run in-process against the test database."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from openpyxl import load_workbook

from kefu.accounts.enums import Role
from kefu.accounts.models import ApiToken, User
from kefu.accounts.tests.factories import PASSWORD
from kefu.cli import main
from kefu.core.models import AuditAction, AuditEvent
from kefu.customers.models import Contact, Customer
from kefu.customers.tests.factories import ContactFactory, CustomerFactory
from kefu.customers.tests.test_import import GOOD_ROWS, HEADERS, template_row, write_csv, write_xlsx
from kefu.tickets.models import Ticket

pytestmark = pytest.mark.django_db

BAD_ROW = template_row(customer_no="KH9", name="坏", phone="110")


def kefu(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# --- import -------------------------------------------------------------------------------------------


def test_import_prints_a_summary_and_a_progress_bar(tmp_path, capsys):
    path = write_xlsx(tmp_path / "客户.xlsx", [HEADERS, *GOOD_ROWS[:2], [None] * len(HEADERS), GOOD_ROWS[2]])

    code, out, err = kefu(capsys, "import", "customers", str(path))

    assert code == 0
    assert out == "3 rows: 3 created, 0 updated, 0 unchanged, 0 rejected, 1 empty rows skipped\n"
    assert "校验" in err
    assert "写入: 100%" in err
    assert "3/3" in err
    assert Customer.objects.count() == 3
    assert Contact.objects.count() == 3
    assert Contact.objects.get(customer__customer_no="KH100001").phone == "+8613812345678"


def test_import_as_a_user_is_audited_under_that_user(tmp_path, capsys, make_user):
    lead = make_user(Role.LEAD, username="zhangsan")
    path = write_xlsx(tmp_path / "客户.xlsx", [HEADERS, GOOD_ROWS[0]])
    code, _, _ = kefu(capsys, "import", "customers", str(path), "--user", "zhangsan", "--no-progress")
    assert code == 0
    assert (
        AuditEvent.objects.get(action=AuditAction.CREATE, object_repr="上海冷运物流有限公司 (KH100001)").actor
        == lead
    )


def test_reimport_updates_instead_of_duplicating(tmp_path, capsys):
    path = write_xlsx(tmp_path / "客户.xlsx", [HEADERS, *GOOD_ROWS])
    kefu(capsys, "import", "customers", str(path))
    changed = [row[:] for row in GOOD_ROWS]
    changed[1][HEADERS.index("客户名称")] = "李四（已改名）"
    path = write_xlsx(tmp_path / "客户2.xlsx", [HEADERS, *changed])

    code, out, _ = kefu(capsys, "import", "customers", str(path), "--no-progress")

    assert code == 0
    assert out == "3 rows: 0 created, 1 updated, 2 unchanged, 0 rejected, 0 empty rows skipped\n"
    assert Customer.objects.count() == 3
    assert Customer.objects.get(customer_no="KH100002").name == "李四（已改名）"


def test_import_with_bad_rows_all_or_nothing_writes_nothing(tmp_path, capsys):
    rows = [HEADERS, GOOD_ROWS[0], BAD_ROW, GOOD_ROWS[1], GOOD_ROWS[1]]
    path = write_xlsx(tmp_path / "客户.xlsx", rows)

    code, out, err = kefu(capsys, "import", "customers", str(path), "--no-progress")

    assert code == 1
    assert out == "4 rows: 0 created, 0 updated, 0 unchanged, 2 rejected, 0 empty rows skipped\n"
    assert err.splitlines() == [
        "row 3, column 电话: 电话号码无效：110",
        "row 5, column 客户编号: 与第 4 行重复：KH100002",
        "kefu: nothing was imported (mode all_or_nothing); fix the rows above or use --mode valid_rows",
    ]
    assert Customer.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_import_valid_rows_writes_the_good_rows_and_exits_non_zero(tmp_path, capsys):
    path = write_xlsx(tmp_path / "客户.xlsx", [HEADERS, GOOD_ROWS[0], BAD_ROW, GOOD_ROWS[1]])

    code, out, err = kefu(capsys, "import", "customers", str(path), "--mode", "valid_rows", "--no-progress")

    assert code == 1
    assert out == "3 rows: 2 created, 0 updated, 0 unchanged, 1 rejected, 0 empty rows skipped\n"
    assert err.splitlines() == ["row 3, column 电话: 电话号码无效：110"]
    assert sorted(Customer.objects.values_list("customer_no", flat=True)) == ["KH100001", "KH100002"]


def test_import_missing_file(tmp_path, capsys):
    code, out, err = kefu(capsys, "import", "customers", str(tmp_path / "nope.xlsx"))
    assert code == 1
    assert out == ""
    assert err == f"kefu: {tmp_path / 'nope.xlsx'}: no such file\n"


def test_import_file_level_error(tmp_path, capsys):
    path = write_csv(tmp_path / "a.csv", [["客户编号", "电话"], ["KH1", "13812345678"]])
    code, out, err = kefu(capsys, "import", "customers", str(path))
    assert code == 1
    assert out == ""
    assert err.splitlines()[-1] == "kefu: a.csv: 表头不符合模板：缺少必填列：客户名称"
    assert Customer.objects.count() == 0


def test_import_unknown_user(tmp_path, capsys):
    path = write_xlsx(tmp_path / "客户.xlsx", [HEADERS, GOOD_ROWS[0]])
    code, _, err = kefu(capsys, "import", "customers", str(path), "--user", "ghost")
    assert code == 1
    assert err == "kefu: no user named 'ghost'\n"
    assert Customer.objects.count() == 0


def test_import_rejects_an_unknown_mode(tmp_path, capsys):
    path = write_xlsx(tmp_path / "客户.xlsx", [HEADERS, GOOD_ROWS[0]])
    with pytest.raises(SystemExit) as info:
        main(["import", "customers", str(path), "--mode", "everything"])
    assert info.value.code == 2
    assert "invalid choice: 'everything'" in capsys.readouterr().err


# --- tokens and administrators --------------------------------------------------------------------------


def test_token_create_prints_a_token_that_authenticates(capsys, make_user):
    make_user(Role.AGENT, username="wangwu")

    code, out, _ = kefu(capsys, "token", "create", "--user", "wangwu", "--name", "erp")

    assert code == 0
    heading, plain = out.splitlines()
    assert heading == "token 'erp' for wangwu (shown once, store it now):"
    assert plain.startswith("kefu_")
    assert ApiToken.objects.get().name == "erp"
    response = Client().get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"})
    assert response.status_code == 200
    assert response.json()["username"] == "wangwu"
    assert Client().get("/api/v1/me", headers={"Authorization": f"Bearer {plain}x"}).status_code == 401


def test_token_create_for_an_unknown_user(capsys):
    code, out, err = kefu(capsys, "token", "create", "--user", "ghost")
    assert (code, out, err) == (1, "", "kefu: no user named 'ghost'\n")
    assert ApiToken.objects.count() == 0


def test_token_create_for_an_inactive_user(capsys, make_user):
    make_user(Role.AGENT, username="gone", is_active=False)
    code, out, err = kefu(capsys, "token", "create", "--user", "gone")
    assert (code, out, err) == (1, "", "kefu: 用户 gone 已停用\n")


def test_createadmin_with_password_from_the_environment(capsys, monkeypatch):
    monkeypatch.setenv("KEFU_ADMIN_PASSWORD", "Kefu-admin-2026!")

    code, out, _ = kefu(capsys, "createadmin", "root", "--email", "root@example.cn")

    assert (code, out) == (0, "created administrator root\n")
    admin = User.objects.get(username="root")
    assert (admin.role, admin.is_superuser, admin.is_staff, admin.email) == (
        Role.ADMIN,
        True,
        True,
        "root@example.cn",
    )
    assert admin.check_password("Kefu-admin-2026!")
    client = Client()
    assert client.login(username="root", password="Kefu-admin-2026!")
    assert client.get("/admin/").status_code == 200


def test_createadmin_duplicate_username_fails_clearly(capsys, monkeypatch, make_user):
    make_user(Role.AGENT, username="root")
    monkeypatch.setenv("KEFU_ADMIN_PASSWORD", "Kefu-admin-2026!")

    code, out, err = kefu(capsys, "createadmin", "ROOT")

    assert (code, out, err) == (1, "", "kefu: 用户名 ROOT 已存在\n")
    assert User.objects.get(username="root").check_password(PASSWORD)  # untouched
    assert User.objects.filter(is_superuser=True).count() == 0


def test_createadmin_refuses_an_empty_password(capsys, monkeypatch):
    monkeypatch.setenv("KEFU_ADMIN_PASSWORD", "")
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "  ")
    code, _, err = kefu(capsys, "createadmin", "root")
    assert code == 1
    assert err == "kefu: the password must not be empty (set KEFU_ADMIN_PASSWORD or type one)\n"
    assert not User.objects.filter(username="root").exists()


# --- export ---------------------------------------------------------------------------------------------


@pytest.fixture
def one_customer(db):
    customer = CustomerFactory(customer_no="KH000001", name="上海冷运物流有限公司")
    ContactFactory(customer=customer, name="王小明", phone="+8613812345678", phone_rev="8765432183168")
    return customer


def exported(path: Path) -> list[list[str]]:
    workbook = load_workbook(path, read_only=True)
    rows = [
        ["" if v is None else str(v) for v in row]
        for row in workbook.worksheets[0].iter_rows(values_only=True)
    ]
    workbook.close()
    return rows


def test_export_as_a_lead_is_unmasked_and_reimports_cleanly(tmp_path, capsys, one_customer, make_user):
    lead = make_user(Role.LEAD, username="lead1")
    path = tmp_path / "out.xlsx"

    code, out, err = kefu(capsys, "export", "customers", str(path), "--user", "lead1")

    assert code == 0
    assert out == f"1 customers written to {path}\n"
    assert "导出: 100%" in err
    rows = exported(path)
    assert rows[0] == HEADERS
    assert rows[1][HEADERS.index("电话")] == "138 1234 5678"
    assert rows[1][HEADERS.index("联系人")] == "王小明"
    event = AuditEvent.objects.get(action=AuditAction.EXPORT)
    assert (event.actor, event.changes) == (lead, {"customers": [None, 1], "unmasked": [None, True]})

    code, out, _ = kefu(capsys, "import", "customers", str(path), "--user", "lead1", "--no-progress")
    assert (code, out) == (0, "1 rows: 0 created, 0 updated, 1 unchanged, 0 rejected, 0 empty rows skipped\n")
    assert Customer.objects.count() == 1
    assert Contact.objects.count() == 1


def test_export_as_an_analyst_is_masked(tmp_path, capsys, one_customer, make_user):
    make_user(Role.ANALYST, username="analyst1")
    code, _, _ = kefu(
        capsys, "export", "customers", str(tmp_path / "out.xlsx"), "--user", "analyst1", "--no-progress"
    )
    assert code == 0
    row = exported(tmp_path / "out.xlsx")[1]
    assert row[HEADERS.index("电话")] == "138******78"
    assert row[HEADERS.index("联系人")] == "王*明"


@pytest.mark.parametrize("role", [Role.AGENT, Role.QA, Role.CUSTOMER])
def test_export_is_refused_to_users_without_the_export_permission(
    tmp_path, capsys, one_customer, make_user, role
):
    make_user(role, username="someone")
    path = tmp_path / "out.xlsx"
    code, _, err = kefu(capsys, "export", "customers", str(path), "--user", "someone", "--no-progress")
    assert code == 1
    assert "may not export customers" in err
    assert not path.exists()
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT).exists()


def test_export_without_a_user_is_masked_and_audited_as_system(tmp_path, capsys, one_customer):
    code, _, _ = kefu(capsys, "export", "customers", str(tmp_path / "out.xlsx"), "--no-progress")
    assert code == 0
    assert exported(tmp_path / "out.xlsx")[1][HEADERS.index("电话")] == "138******78"
    event = AuditEvent.objects.get(action=AuditAction.EXPORT)
    assert (event.actor_kind, event.changes["unmasked"]) == ("system", [None, False])


def test_export_into_a_missing_directory(tmp_path, capsys, one_customer):
    code, out, err = kefu(capsys, "export", "customers", str(tmp_path / "nope" / "out.xlsx"))
    assert (code, out) == (1, "")
    assert err == f"kefu: {tmp_path / 'nope'}: no such directory\n"


def test_export_unknown_user(tmp_path, capsys, one_customer):
    code, _, err = kefu(capsys, "export", "customers", str(tmp_path / "out.xlsx"), "--user", "ghost")
    assert (code, err) == (1, "kefu: no user named 'ghost'\n")
    assert not (tmp_path / "out.xlsx").exists()


# --- seed -----------------------------------------------------------------------------------------------


def test_seed_writes_tickets_and_refreshes_the_planner_statistics(capsys):
    code, _, _ = kefu(capsys, "seed", "--customers", "200", "--tickets", "300", "--seed", "3")

    assert code == 0
    assert Customer.objects.count() == 200
    assert Ticket.objects.count() == 300
    if connection.vendor == "postgresql":
        # ANALYZE ran: a freshly bulk-loaded table has no statistics (reltuples -1) until it does
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.reltuples, s.last_analyze FROM pg_class c"
                " JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE c.relname = %s",
                ["tickets_ticket"],
            )
            reltuples, last_analyze = cursor.fetchone()
        assert reltuples == 300
        assert last_analyze is not None
