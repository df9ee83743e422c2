"""``Ticket.internal_search_text``: the search tokens only a ticket's internal notes hold, so that a
portal user's search leaves them out (kefu/tickets/selectors.py ``search_q(public_only=True)``).

Only tickets with an internal note can have any; the rest keep the empty default. Jieba tokenises in
batches of 500 tickets (a few seconds per 10,000 tickets with notes).

On SQLite, adding (and removing) a NOT NULL column rebuilds the table, which drops the triggers that
keep the full-text table of migration 0003 in step: they are created again after either rebuild (the
rebuild copies rows without firing them, so the full-text table itself stays right)."""

import importlib

from django.db import migrations, models


def restore_fts_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    search_index = importlib.import_module("kefu.tickets.migrations.0003_search_index")
    for statement in search_index.SQLITE:
        if statement.startswith("CREATE TRIGGER"):
            schema_editor.execute(statement)


def backfill(apps, schema_editor):
    from kefu.tickets import text  # the tokenizer the services use; pure functions, no models

    Ticket = apps.get_model("tickets", "Ticket")
    Message = apps.get_model("tickets", "Message")
    Waybill = apps.get_model("tickets", "TicketWaybill")
    ids = list(
        Message.objects.filter(visibility="internal").order_by().values_list("ticket_id", flat=True).distinct()
    )
    for start in range(0, len(ids), 500):
        batch = sorted(ids[start : start + 500])
        public: dict[int, list[str]] = {pk: [] for pk in batch}
        internal: dict[int, list[str]] = {pk: [] for pk in batch}
        for ticket_id, body, visibility in Message.objects.filter(ticket_id__in=batch).values_list(
            "ticket_id", "body_text", "visibility"
        ):
            (public if visibility == "public" else internal)[ticket_id].append(body)
        for ticket_id, waybill in Waybill.objects.filter(ticket_id__in=batch).values_list("ticket_id", "waybill_no"):
            public[ticket_id].append(waybill)
        changed = []
        for ticket in Ticket.objects.filter(pk__in=batch).only("pk", "number", "subject", "description"):
            public_tokens = text.tokens(ticket.number, ticket.subject, ticket.description, *public[ticket.pk])
            ticket.internal_search_text = text.without(text.tokens(*internal[ticket.pk]), public_tokens)
            if ticket.internal_search_text:
                changed.append(ticket)
        Ticket.objects.bulk_update(changed, ["internal_search_text"])


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0010_incident_rule_set_by"),
    ]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, restore_fts_triggers),  # after RemoveField
        migrations.AddField(
            model_name="ticket",
            name="internal_search_text",
            field=models.TextField(
                blank=True,
                default="",
                editable=False,
                help_text="the search_text tokens only internal notes contain: portal searches leave them out",
            ),
        ),
        migrations.RunPython(restore_fts_triggers, migrations.RunPython.noop),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
