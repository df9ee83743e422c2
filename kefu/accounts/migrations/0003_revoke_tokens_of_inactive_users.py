"""Deactivating a user now revokes their API tokens (kefu.accounts.services.user_revoke_tokens), so that
reactivating them later does not bring old tokens back. Users deactivated before that still hold usable
tokens: revoke them now, as the deactivation would have."""

from django.db import migrations
from django.utils import timezone


def revoke(apps, schema_editor):
    ApiToken = apps.get_model("accounts", "ApiToken")
    ApiToken.objects.filter(user__is_active=False, revoked_at=None).update(revoked_at=timezone.now())


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_role_groups")]

    operations = [migrations.RunPython(revoke, migrations.RunPython.noop)]
