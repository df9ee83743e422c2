"""``customers.reveal_contact_phone``: see one contact's whole phone number, with a reason, logged
(docs/security.md "Masking policy"). Granted to the agent, lead and manager groups (kefu.accounts.roles)."""

from django.apps.registry import Apps
from django.contrib.auth.management import create_permissions
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

# Managers hold it too, though they see numbers anyway: nobody may give a role a permission they lack
# (kefu/accounts/access.py), and managers give the agent and lead roles.
GROUPS = ("agent", "lead", "manager")


def grant(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    app_config = apps.get_app_config("customers")
    app_config.models_module = True  # the migration state's stub lacks it; create_permissions checks it
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    permission = Permission.objects.get(content_type__app_label="customers", codename="reveal_contact_phone")
    for group in apps.get_model("auth", "Group").objects.filter(name__in=GROUPS):
        group.permissions.add(permission)


def revoke(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    apps.get_model("auth", "Permission").objects.filter(
        content_type__app_label="customers", codename="reveal_contact_phone"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0007_importjob_checkpoint"),
        ("accounts", "0002_role_groups"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="customer",
            options={
                "permissions": [
                    ("view_personal_data", "可查看未脱敏的个人信息"),
                    ("reveal_contact_phone", "可说明原因后查看联系人完整电话"),
                    ("import_customers", "可导入客户"),
                    ("export_customers", "可导出客户"),
                    ("assign_account_agent", "可分配客户经理"),
                ],
                "verbose_name": "客户",
                "verbose_name_plural": "客户",
            },
        ),
        migrations.RunPython(grant, revoke),
    ]
