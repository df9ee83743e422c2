from django.contrib import admin
from django.http import HttpRequest

from kefu.core.models import AuditEvent, Sequence


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
