from django.contrib import admin

from kefu.core.admin import AuditedAdmin
from kefu.tickets.models import Category, CustomField, SavedView, Status, Tag


class CustomFieldInline(admin.TabularInline[CustomField, Category]):
    model = CustomField
    extra = 0


@admin.register(Category)
class CategoryAdmin(AuditedAdmin[Category]):
    list_display = ("code", "name", "name_en", "parent", "default_team", "position", "is_active")
    list_filter = ("is_active", "parent", "default_team")
    list_select_related = ("parent", "default_team")
    search_fields = ("code", "name", "name_en")
    inlines = (CustomFieldInline,)


@admin.register(Status)
class StatusAdmin(AuditedAdmin[Status]):
    list_display = ("code", "name", "name_en", "category", "sla_running", "is_default", "position")
    list_filter = ("category", "sla_running")


@admin.register(Tag)
class TagAdmin(AuditedAdmin[Tag]):
    list_display = ("name", "name_en")
    search_fields = ("name", "name_en")


@admin.register(SavedView)
class SavedViewAdmin(AuditedAdmin[SavedView]):
    list_display = ("name", "owner", "shared")
