"""PostgreSQL only: a trigram index on the name itself, for searches without letter case (Chinese,
digits) that use a plain LIKE; 0003's index on UPPER(name) serves case-insensitive Latin searches."""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor


def add(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS customer_name_plain_trgm_idx ON customers_customer "
            "USING gin (name gin_trgm_ops)"
        )


def drop(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS customer_name_plain_trgm_idx")


class Migration(migrations.Migration):
    dependencies = [("customers", "0003_customer_name_trigram")]
    operations = [migrations.RunPython(add, drop)]
