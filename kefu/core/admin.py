from __future__ import annotations

from typing import Any, Generic, TypeVar

from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from kefu.core import audit, outbox
from kefu.core.models import AuditAction, AuditEvent, OutboxMessage, OutboxStatus, Sequence

M = TypeVar("M", bound=models.Model)


class AuditedAdmin(admin.ModelAdmin[M], Generic[M]):
    """Admin edits are changes like any other: each save or delete is written to the audit log with the
    changed fields old → new, many-to-many fields (groups, permissions, skills, …) included, as they are
    once the whole form is saved (admin configuration does not bypass the audit trail)."""

    # Fields an admin class sets from others (a user's role decides is_staff): audited whenever they change.
    audit_derived_fields: tuple[str, ...] = ()

    def save_model(self, request: HttpRequest, obj: M, form: ModelForm[M], change: bool) -> None:
        concrete = {f.name for f in obj._meta.concrete_fields}
        fields = [f for f in form.changed_data if f in concrete]
        before = {name: audit.plain(form.initial.get(name)) for name in fields} if change else {}
        if change:  # as stored: many-to-many and derived fields may change as a consequence of the form
            stored = type(obj)._default_manager.get(pk=obj.pk)
            derived = [name for name in self.audit_derived_fields if name not in fields]
            before.update({name: audit.plain(getattr(stored, name)) for name in derived})
            before.update({f.name: _many(obj, f.name) for f in obj._meta.many_to_many})
            fields = [*fields, *derived]
        super().save_model(request, obj, form, change)
        form._audit_before = (fields, before)  # type: ignore[attr-defined]

    def save_related(self, request: HttpRequest, form: ModelForm[M], formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        self.after_save_related(request, form, change)
        obj = form.instance
        fields, before = form._audit_before  # type: ignore[attr-defined]
        after = {name: audit.plain(getattr(obj, name)) for name in fields}
        after.update({f.name: _many(obj, f.name) for f in obj._meta.many_to_many})
        if change:
            changes = {
                name: [before.get(name), new] for name, new in after.items() if before.get(name) != new
            }
            if changes:
                audit.record(actor=request.user, action=AuditAction.UPDATE, obj=obj, changes=changes)
        else:
            audit.record(
                actor=request.user,
                action=AuditAction.CREATE,
                obj=obj,
                changes={name: [None, value] for name, value in after.items() if name in fields or value},
            )

    def after_save_related(self, request: HttpRequest, form: ModelForm[M], change: bool) -> None:
        """Hook for changes that follow from the form (e.g. a user's role decides their group): they run
        before the audit event is written, so it shows the final state."""

    def delete_model(self, request: HttpRequest, obj: M) -> None:
        audit.record(
            actor=request.user, action=AuditAction.DELETE, obj=obj, changes={"object": [str(obj), None]}
        )
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            audit.record(
                actor=request.user, action=AuditAction.DELETE, obj=obj, changes={"object": [str(obj), None]}
            )
        super().delete_queryset(request, queryset)


def _many(obj: models.Model, name: str) -> list[str]:
    return sorted(str(related) for related in getattr(obj, name).all())


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin[AuditEvent]):
    """Read-only: the audit log is append-only."""

    list_display = ("at", "actor_label", "actor_kind", "action", "content_type", "object_repr")
    list_filter = ("action", "actor_kind", "content_type")
    search_fields = ("object_repr", "actor_label", "object_id")
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False


@admin.register(Sequence)
class SequenceAdmin(admin.ModelAdmin[Sequence]):
    list_display = ("name", "value")
    readonly_fields = ("name", "value")


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin[OutboxMessage]):
    """Deliveries waiting, done and given up (``kefu.core.outbox``), read only; failed ones can be queued
    again."""

    list_display = (
        "id",
        "handler",
        "key",
        "status",
        "attempts",
        "next_attempt_at",
        "created_at",
        "delivered_at",
    )
    list_filter = ("status", "handler")
    search_fields = ("key",)
    date_hierarchy = "created_at"
    actions = ("retry",)

    def get_readonly_fields(self, request: HttpRequest, obj: OutboxMessage | None = None) -> list[str]:
        return [f.name for f in OutboxMessage._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: OutboxMessage | None = None) -> bool:
        return False

    @admin.action(description=_("重新投递所选的失败消息"), permissions=["change"])
    def retry(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        keys = queryset.filter(status=OutboxStatus.FAILED).values_list("key", flat=True)
        count = outbox.retry_failed(keys)
        self.message_user(
            request,
            ngettext("%(count)d 条消息已重新排队。", "%(count)d 条消息已重新排队。", count)
            % {"count": count},
            messages.SUCCESS,
        )
