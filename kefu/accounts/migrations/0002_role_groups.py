"""One group per role with the default permissions of kefu.accounts.roles (editable in admin after)."""

from django.apps.registry import Apps
from django.contrib.auth.management import create_permissions
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

ROLE_PERMISSIONS = {
    "agent": [
        "customers.view_customer", "customers.view_contact", "customers.view_customernote",
        "customers.add_customer", "customers.change_customer", "customers.add_contact",
        "customers.change_contact", "customers.add_customernote", "accounts.view_team", "accounts.view_user",
    ],
    "lead": [
        "customers.view_customer", "customers.view_contact", "customers.view_customernote",
        "customers.add_customer", "customers.change_customer", "customers.add_contact",
        "customers.change_contact", "customers.add_customernote", "customers.view_personal_data",
        "customers.import_customers", "customers.export_customers", "customers.assign_account_agent",
        "accounts.view_team", "accounts.view_user", "core.view_auditevent",
    ],
    "manager": [
        "customers.view_customer", "customers.view_contact", "customers.view_customernote",
        "customers.add_customer", "customers.change_customer", "customers.add_contact",
        "customers.change_contact", "customers.add_customernote", "customers.view_personal_data",
        "customers.import_customers", "customers.export_customers", "customers.assign_account_agent",
        "accounts.view_team", "accounts.view_user", "core.view_auditevent", "customers.delete_customer",
        "customers.delete_contact", "accounts.change_team", "accounts.change_user",
    ],
    "qa": [
        "customers.view_customer", "customers.view_contact", "customers.view_customernote",
        "accounts.view_team", "accounts.view_user", "core.view_auditevent",
    ],
    "analyst": [
        "customers.view_customer", "customers.view_contact", "customers.view_customernote",
        "accounts.view_team", "accounts.view_user", "customers.export_customers",
    ],
    "admin": [],
    "customer": [],
}


def create_groups(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    # Permissions are normally created after migrate finishes; create them now so groups can hold them.
    for label in ("core", "accounts", "customers"):
        app_config = apps.get_app_config(label)
        app_config.models_module = True  # the migration state's stub lacks it; create_permissions checks it
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = []
        for perm in perms:
            app_label, codename = perm.split(".")
            wanted.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        group.permissions.set(wanted)


def remove_groups(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("customers", "0001_initial"),
        ("core", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(create_groups, remove_groups)]
