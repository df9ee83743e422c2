from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "kefu.accounts"
    label = "accounts"
    verbose_name = _("员工与团队")

    def ready(self) -> None:
        from django.contrib.auth.models import Group, Permission
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from kefu.accounts.models import Team, User
        from kefu.core import reference
        from kefu.core.masking import mask_email
        from kefu.core.web import mask_stored_phone, register_personal_data

        register_personal_data(User, fields={"phone": mask_stored_phone, "email": mask_email})

        # Permissions and teams are cached between requests (kefu.core.reference): a change invalidates.
        for model in (Team, Group, Permission):
            post_save.connect(
                reference.changed, sender=model, dispatch_uid=f"reference-{model.__name__}-save"
            )
            post_delete.connect(
                reference.changed, sender=model, dispatch_uid=f"reference-{model.__name__}-delete"
            )
        for through in (User.groups.through, User.user_permissions.through, Group.permissions.through):
            m2m_changed.connect(
                reference.changed, sender=through, dispatch_uid=f"reference-{through.__name__}"
            )
