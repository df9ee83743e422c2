"""PostgreSQL only: a trigram index so "name contains" searches stay fast at 100k+ customers.
SQLite has no equivalent; there the search scans the name index (measured in docs/performance.md)."""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor


def add(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS customer_name_trgm_idx ON customers_customer "
            "USING gin (UPPER(name) gin_trgm_ops)"
        )


def drop(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS customer_name_trgm_idx")


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_reference_skills_segments")]
    operations = [migrations.RunPython(add, drop)]
