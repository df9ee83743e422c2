"""Default skills and customer segments from domain.md (editable in admin). Reversing leaves the rows:
they are removed with their tables when 0001 is reversed."""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

SKILLS = [
    ("cold-chain", "冷链", "Cold chain"),
    ("dangerous-goods", "危险品", "Dangerous goods"),
    ("cross-border", "跨境", "Cross-border"),
    ("english", "英语", "English"),
    ("key-account", "大客户", "Key accounts"),
    ("claims", "理赔", "Claims"),
]
SEGMENTS = [
    ("cold-chain", "冷链", "Cold chain", "cold-chain"),
    ("cross-border", "跨境", "Cross-border", "cross-border"),
    ("ecommerce", "电商", "E-commerce", None),
    ("hazmat", "危化品", "Hazardous chemicals", "dangerous-goods"),
    ("manufacturing", "制造业", "Manufacturing", None),
    ("retail", "零售", "Retail", None),
    ("pharma", "医药", "Pharmaceuticals", "cold-chain"),
]


def seed(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Skill = apps.get_model("accounts", "Skill")
    Segment = apps.get_model("customers", "Segment")
    for code, name, name_en in SKILLS:
        Skill.objects.get_or_create(code=code, defaults={"name": name, "name_en": name_en})
    for code, name, name_en, skill in SEGMENTS:
        Segment.objects.get_or_create(
            code=code,
            defaults={"name": name, "name_en": name_en, "skill": Skill.objects.filter(code=skill).first()},
        )


class Migration(migrations.Migration):
    dependencies = [("customers", "0001_initial"), ("accounts", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]  # the rows go with the tables
