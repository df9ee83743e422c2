from __future__ import annotations

from typing import Any, Generic, TypeVar

from django.contrib import admin
from django.db import models
from django.forms import ModelForm
from django.http import HttpRequest

from kefu.core import audit
from kefu.core.models import AuditAction, AuditEvent, Sequence

M = TypeVar("M", bound=models.Model)


class AuditedAdmin(admin.ModelAdmin[M], Generic[M]):
    """Admin edits are changes like any other: each save or delete is written to the audit log with the
    changed fields old → new (admin configuration does not bypass the audit trail)."""

    def save_model(self, request: HttpRequest, obj: M, form: ModelForm[M], change: bool) -> None:
        fields = [f for f in form.changed_data if f in {fl.name for fl in obj._meta.concrete_fields}]
        before = {name: audit.plain(form.initial.get(name)) for name in fields} if change else {}
        super().save_model(request, obj, form, change)
        if change:
            changes = {name: [before.get(name), audit.plain(getattr(obj, name))] for name in fields}
            if changes:
                audit.record(actor=request.user, action=AuditAction.UPDATE, obj=obj, changes=changes)
        else:
            audit.record_created(actor=request.user, obj=obj, fields=fields)

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
