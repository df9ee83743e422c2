from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "kefu.tickets"
    label = "tickets"
    verbose_name = _("工单")

    def ready(self) -> None:
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from kefu.core import events, reference
        from kefu.core.tasks import register_maintenance
        from kefu.core.web import mask_phone_numbers, register_personal_data
        from kefu.customers import cards
        from kefu.tickets import drafts, notices, selectors
        from kefu.tickets.events import TicketCreated
        from kefu.tickets.models import CallLog, Category, CustomField, IncidentRule, Status
        from kefu.tickets.services.incidents import incident_autolink

        # Database-only reactions to the tickets' own events, in the publishing transaction: a new
        # ticket is linked to the problem whose rule it matches, then the people concerned are told.
        events.subscribe(TicketCreated, incident_autolink)
        notices.register()

        cards.register(name="tickets", template="tickets/_customer_card.html", build=selectors.customer_card)
        register_personal_data(CallLog, shown_as=mask_phone_numbers)  # a call's str() names the number
        register_maintenance(
            "reply_drafts_pruned", drafts.reply_drafts_prune, label="abandoned reply drafts deleted"
        )

        # What services cache between requests (kefu.core.reference): a change invalidates it.
        for model in (Category, CustomField, Status, IncidentRule):
            post_save.connect(
                reference.changed, sender=model, dispatch_uid=f"reference-{model.__name__}-save"
            )
            post_delete.connect(
                reference.changed, sender=model, dispatch_uid=f"reference-{model.__name__}-delete"
            )
        m2m_changed.connect(
            reference.changed,
            sender=IncidentRule.categories.through,
            dispatch_uid="reference-rule-categories",
        )
