"""An incident rule acts for whoever saved it last (it links only tickets that user may see), so the
column names that user: ``created_by`` → ``set_by``."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("tickets", "0009_drop_unused_sort_indexes")]

    operations = [migrations.RenameField(model_name="incidentrule", old_name="created_by", new_name="set_by")]
