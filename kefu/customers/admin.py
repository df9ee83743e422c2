from django.contrib import admin

from kefu.core.admin import AuditedAdmin
from kefu.customers.models import Contact, Customer, CustomerNote, ImportJob, PortalAccount, Segment


@admin.register(Segment)
class SegmentAdmin(AuditedAdmin[Segment]):
    list_display = ("code", "name", "name_en", "skill")
    search_fields = ("code", "name", "name_en")


class ContactInline(admin.StackedInline[Contact, Customer]):
    model = Contact
    extra = 0
    exclude = ("phone_rev",)


@admin.register(Customer)
class CustomerAdmin(AuditedAdmin[Customer]):
    list_display = ("customer_no", "name", "kind", "tier", "city", "account_agent", "is_active")
    list_filter = ("kind", "tier", "segments", "is_active")
    search_fields = ("customer_no", "name")
    autocomplete_fields = ("account_agent",)
    filter_horizontal = ("segments",)
    readonly_fields = ("public_id", "version", "created_at", "updated_at")
    inlines = (ContactInline,)


@admin.register(PortalAccount)
class PortalAccountAdmin(AuditedAdmin[PortalAccount]):
    list_display = ("user", "customer", "created_at")
    autocomplete_fields = ("user", "customer")


@admin.register(CustomerNote)
class CustomerNoteAdmin(AuditedAdmin[CustomerNote]):
    list_display = ("customer", "author", "created_at")
    raw_id_fields = ("customer",)


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin[ImportJob]):
    list_display = (
        "original_name",
        "created_by",
        "mode",
        "status",
        "created_count",
        "updated_count",
        "error_count",
    )
    list_filter = ("status", "mode")
    readonly_fields = tuple(f.name for f in ImportJob._meta.fields)
