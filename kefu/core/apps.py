from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "kefu.core"
    label = "core"
    verbose_name = _("核心")

    def ready(self) -> None:
        from django.core.signals import request_finished, request_started

        from kefu.core import events, reference, webhooks

        events.subscribe(events.Event, webhooks.on_event)
        request_started.connect(reference.request_started, dispatch_uid="kefu.core.reference.request_started")
        request_finished.connect(
            reference.request_finished, dispatch_uid="kefu.core.reference.request_finished"
        )
