from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "kefu.core"
    label = "core"
    verbose_name = _("核心")

    def ready(self) -> None:
        from kefu.core import events, webhooks

        events.subscribe(events.Event, webhooks.on_event)
