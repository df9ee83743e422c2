"""Tags get an English name and custom-field choices English names (``choices_en``, in the order of
``choices``); the seeded fields of migration 0002 get theirs, and the tags a logistics desk uses every
day are seeded in both languages (editable and removable in admin). Reversing drops the columns and
leaves the tags."""

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

# The everyday tags of a logistics customer-service desk: (name, English name).
TAGS = [
    ("加急", "Urgent"),
    ("大客户", "Key account"),
    ("重复来电", "Repeat caller"),
    ("需回访", "Follow-up needed"),
    ("冷链", "Cold chain"),
    ("跨境", "Cross-border"),
    ("危险品", "Dangerous goods"),
    ("大促", "Sales peak"),
    ("媒体关注", "Media attention"),
    ("12315", "12315 consumer hotline"),
    ("先行赔付", "Paid in advance"),
    ("二次投诉", "Repeat complaint"),
    ("夜间件", "Night delivery"),
    ("偏远地区", "Remote area"),
    ("保价件", "Insured parcel"),
    ("待补资料", "Documents pending"),
    ("升级处理", "Escalated"),
    ("系统告警", "System alert"),
]


def seed_choice_names(apps: Apps, schema_editor: BaseDatabaseSchemaEditor | None = None) -> None:
    """English names for the seeded choices an administrator has not named yet, and the everyday tags
    (tests that flush the database call this again)."""
    CustomField = apps.get_model("tickets", "CustomField")
    for field in CustomField.objects.filter(key__in=CHOICES_EN, choices_en=[]):
        names = CHOICES_EN[field.key]
        field.choices_en = [names.get(choice, "") for choice in field.choices]
        field.save(update_fields=["choices_en"])
    Tag = apps.get_model("tickets", "Tag")
    for name, name_en in TAGS:
        tag, _created = Tag.objects.get_or_create(name=name, defaults={"name_en": name_en})
        if not tag.name_en:
            tag.name_en = name_en
            tag.save(update_fields=["name_en"])


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0007_queue_sort_by_age_indexes"),
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
