"""Default categories, statuses and category fields from domain.md, and the ticket permissions of each
role group (all editable in admin afterwards). Reversing leaves the rows: they go with the tables."""

from django.apps.registry import Apps
from django.contrib.auth.management import create_permissions
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

CATEGORIES = [
    ("delay", "时效延误", "Delivery delay"),
    ("damage", "货损", "Damaged goods"),
    ("loss", "丢件", "Lost parcel"),
    ("route-change", "路由变更", "Route change"),
    ("signing", "签收异常", "Delivery signing issue"),
    ("billing", "费用争议", "Billing dispute"),
    ("system", "系统故障", "System failure"),
    ("return", "退换货", "Return / exchange"),
    ("other", "其他", "Other"),
]
# (code, name, name_en, category, sla_running, is_default)
STATUSES = [
    ("new", "新建", "New", "new", True, True),
    ("open", "处理中", "Open", "open", True, True),
    ("waiting-customer", "等待客户回复", "Waiting on customer", "pending", False, True),
    ("waiting-documents", "等待客户资料", "Waiting on customer documents", "pending", False, False),
    ("waiting-carrier", "等待承运商", "Waiting on carrier", "pending", True, False),
    ("resolved", "已解决", "Resolved", "resolved", False, True),
    ("closed", "已关闭", "Closed", "closed", False, True),
]
CARGO_TYPES = ["普通货物", "冷链货物", "危险品", "贵重物品", "易碎品", "跨境包裹"]
NODES = ["揽收", "始发分拨", "干线运输", "目的分拨", "末端派送", "签收"]
SOLUTIONS = ["尽快派送", "赔偿", "补发", "退回", "查明原因"]
FIELDS = [
    ("cargo_type", "货物类型", "Cargo type", "choice", CARGO_TYPES),
    ("exception_node", "异常节点", "Exception node", "choice", NODES),
    ("expected_solution", "期望解决方案", "Expected solution", "choice", SOLUTIONS),
]
ROLE_PERMISSIONS = {
    "agent": ["view_ticket", "add_ticket", "change_ticket", "view_calllog", "add_calllog"],
    "lead": ["view_ticket", "add_ticket", "change_ticket", "manage_problem", "view_calllog", "add_calllog"],
    "manager": [
        "view_ticket", "add_ticket", "change_ticket", "manage_problem", "view_all_tickets", "view_calllog",
        "add_calllog",
    ],
    "qa": ["view_ticket", "view_all_tickets", "view_calllog"],
    "analyst": ["view_ticket", "view_all_tickets", "view_calllog"],
}


def seed_reference(apps: Apps) -> None:
    """Categories, statuses and category fields (tests that flush the database call this again)."""
    Category = apps.get_model("tickets", "Category")
    Status = apps.get_model("tickets", "Status")
    CustomField = apps.get_model("tickets", "CustomField")
    for position, (code, name, name_en) in enumerate(CATEGORIES):
        Category.objects.get_or_create(code=code, defaults={"name": name, "name_en": name_en, "position": position})
    for position, (code, name, name_en, category, sla, default) in enumerate(STATUSES):
        Status.objects.get_or_create(
            code=code,
            defaults={
                "name": name, "name_en": name_en, "category": category, "sla_running": sla,
                "is_default": default, "position": position,
            },
        )
    for code in ("delay", "damage", "loss"):
        category = Category.objects.get(code=code)
        for position, (key, label, label_en, kind, choices) in enumerate(FIELDS):
            CustomField.objects.get_or_create(
                category=category,
                key=key,
                defaults={
                    "label": label, "label_en": label_en, "kind": kind, "choices": choices, "required": True,
                    "position": position,
                },
            )


def grant_permissions(apps: Apps) -> None:
    app_config = apps.get_app_config("tickets")
    app_config.models_module = True  # the migration state's stub lacks it; create_permissions checks it
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(*Permission.objects.filter(content_type__app_label="tickets", codename__in=codenames))


def seed(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    seed_reference(apps)
    grant_permissions(apps)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial"), ("accounts", "0002_role_groups")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
