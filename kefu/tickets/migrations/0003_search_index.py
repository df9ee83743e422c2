"""Full-text search over ``Ticket.search_text`` (space-separated jieba tokens) without a table scan.

PostgreSQL: a GIN index on the token array, ``string_to_array(search_text, ' ')``, which serves
``string_to_array(search_text, ' ') @> ARRAY[...]`` (every query token is one of the ticket's tokens).

SQLite: an FTS5 external-content table over ``search_text`` with the ``ascii`` tokenizer (splits on ASCII
non-alphanumerics only, so each jieba token — Chinese or Latin — is one FTS token), kept in sync by
triggers; ``tickets_ticket_fts MATCH '"tok1" "tok2"'`` gives the matching rowids. Existing rows are
indexed by a rebuild. Both give exactly the same matches (kefu/tickets/selectors.py ``search_q``).
"""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

SQLITE = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS tickets_ticket_fts USING fts5("
    "search_text, content='tickets_ticket', content_rowid='id', tokenize='ascii', detail='none', columnsize=0)",
    "CREATE TRIGGER IF NOT EXISTS tickets_ticket_fts_ai AFTER INSERT ON tickets_ticket BEGIN "
    "INSERT INTO tickets_ticket_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER IF NOT EXISTS tickets_ticket_fts_ad AFTER DELETE ON tickets_ticket BEGIN "
    "INSERT INTO tickets_ticket_fts(tickets_ticket_fts, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER IF NOT EXISTS tickets_ticket_fts_au AFTER UPDATE OF search_text ON tickets_ticket BEGIN "
    "INSERT INTO tickets_ticket_fts(tickets_ticket_fts, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO tickets_ticket_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "INSERT INTO tickets_ticket_fts(tickets_ticket_fts) VALUES ('rebuild')",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS tickets_ticket_fts_ai",
    "DROP TRIGGER IF EXISTS tickets_ticket_fts_ad",
    "DROP TRIGGER IF EXISTS tickets_ticket_fts_au",
    "DROP TABLE IF EXISTS tickets_ticket_fts",
]
POSTGRESQL = [
    "CREATE INDEX IF NOT EXISTS ticket_search_tokens_idx ON tickets_ticket "
    "USING gin (string_to_array(search_text, ' '))",
    # Waybill and ticket-number tokens are unique: a finer element histogram keeps the planner's
    # estimate for a rare token low, so it uses this index rather than walking the updated_at index.
    "ALTER INDEX ticket_search_tokens_idx ALTER COLUMN 1 SET STATISTICS 1000",
]
POSTGRESQL_DROP = ["DROP INDEX IF EXISTS ticket_search_tokens_idx"]


def add(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    vendor = schema_editor.connection.vendor
    for statement in SQLITE if vendor == "sqlite" else POSTGRESQL if vendor == "postgresql" else []:
        schema_editor.execute(statement)


def drop(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    vendor = schema_editor.connection.vendor
    for statement in SQLITE_DROP if vendor == "sqlite" else POSTGRESQL_DROP if vendor == "postgresql" else []:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0002_reference_data")]
    operations = [migrations.RunPython(add, drop)]
