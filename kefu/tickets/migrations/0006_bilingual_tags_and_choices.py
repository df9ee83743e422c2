"""Tags get an English name and custom-field choices English names (``choices_en``, in the order of
``choices``), and the seeded fields of migration 0002 get theirs. Reversing drops the columns."""

from django.apps.registry import Apps
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

# key → {stored choice: English name} for the fields migration 0002 seeds.
CHOICES_EN = {
    "cargo_type": {
        "普通货物": "General cargo",
        "冷链货物": "Cold-chain cargo",
        "危险品": "Dangerous goods",
        "贵重物品": "Valuables",
        "易碎品": "Fragile goods",
        "跨境包裹": "Cross-border parcel",
    },
    "exception_node": {
        "揽收": "Pickup",
        "始发分拨": "Origin sorting centre",
        "干线运输": "Line haul",
        "目的分拨": "Destination sorting centre",
        "末端派送": "Last-mile delivery",
        "签收": "Delivery and signing",
    },
    "expected_solution": {
        "尽快派送": "Deliver as soon as possible",
        "赔偿": "Compensation",
        "补发": "Send a replacement",
        "退回": "Return to sender",
        "查明原因": "Find out the cause",
    },
}


def seed_choice_names(apps: Apps, schema_editor: BaseDatabaseSchemaEditor | None = None) -> None:
    """English names for the seeded choices an administrator has not named yet (tests that flush the
    database call this again)."""
    CustomField = apps.get_model("tickets", "CustomField")
    for field in CustomField.objects.filter(key__in=CHOICES_EN, choices_en=[]):
        names = CHOICES_EN[field.key]
        field.choices_en = [names.get(choice, "") for choice in field.choices]
        field.save(update_fields=["choices_en"])


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0005_incident_rules_category_default_team"),
    ]

    operations = [
        migrations.AddField(
            model_name="customfield",
            name="choices_en",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="与可选值一一对应的英文名称，顺序相同；留空的显示中文",
                verbose_name="可选值英文名称",
            ),
        ),
        migrations.AddField(
            model_name="tag",
            name="name_en",
            field=models.CharField(blank=True, max_length=32, verbose_name="英文名称"),
        ),
        migrations.RunPython(seed_choice_names, migrations.RunPython.noop),
    ]
