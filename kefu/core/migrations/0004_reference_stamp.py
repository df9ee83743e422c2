"""The stamp that tells every process its cached reference data changed (kefu/core/reference.py)."""

import secrets

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor


def add(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    apps.get_model("core", "Sequence").objects.update_or_create(
        name="reference", defaults={"value": secrets.randbits(62)}
    )


def remove(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    apps.get_model("core", "Sequence").objects.filter(name="reference").delete()


class Migration(migrations.Migration):
    dependencies = [("core", "0003_notification")]
    operations = [migrations.RunPython(add, remove)]
