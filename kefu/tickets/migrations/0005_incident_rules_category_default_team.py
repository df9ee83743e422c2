"""Problem tickets' automatic incident-linking rules, and a default team per category so portal and API
tickets created without a team reach agents. The default teams are set for the seeded categories when
the seeded teams exist (an upgraded demo database); a fresh demo sets them when it creates its teams
(``kefu.demo``). Reversing drops the column and the table, so it needs no reverse data step."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


# seeded category code -> seeded team code (kefu.demo.TEAMS): transport exceptions, signing, route changes
# and returns go to after-sales, billing disputes to the complaint desk, the rest to the inquiry desk.
CATEGORY_TEAMS = {
    "delay": "after-sales",
    "damage": "after-sales",
    "loss": "after-sales",
    "route-change": "after-sales",
    "signing": "after-sales",
    "return": "after-sales",
    "billing": "complaints",
    "system": "inquiry",
    "other": "inquiry",
}


def set_default_teams(apps, schema_editor):
    Category = apps.get_model("tickets", "Category")
    Team = apps.get_model("accounts", "Team")
    teams = {t.code: t for t in Team.objects.filter(code__in=set(CATEGORY_TEAMS.values()))}
    for code, team_code in CATEGORY_TEAMS.items():
        if team_code in teams:
            Category.objects.filter(code=code, default_team=None).update(default_team=teams[team_code])


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_role_groups'),
        ('tickets', '0004_queue_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='category',
            name='default_team',
            field=models.ForeignKey(blank=True, help_text='创建时未指定团队的工单（门户、API）进入此团队', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='accounts.team', verbose_name='默认团队'),
        ),
        migrations.CreateModel(
            name='IncidentRule',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('waybills', models.JSONField(blank=True, default=list, verbose_name='运单号')),
                ('route_nodes', models.JSONField(blank=True, default=list, help_text='网点、转运中心或城市名称，与异常节点匹配', verbose_name='路由节点')),
                ('ends_at', models.DateTimeField(blank=True, null=True, verbose_name='截止时间')),
                ('updated_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='更新时间')),
                ('categories', models.ManyToManyField(blank=True, related_name='+', to='tickets.category', verbose_name='限定分类')),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('problem', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='incident_rule', to='tickets.ticket', verbose_name='问题工单')),
            ],
            options={
                'verbose_name': '自动关联规则',
                'verbose_name_plural': '自动关联规则',
            },
        ),
        migrations.RunPython(set_default_teams, migrations.RunPython.noop),
    ]
