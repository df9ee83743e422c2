from django.contrib import admin
from django.http import HttpRequest

from kefu.accounts.access import is_administrator
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
    list_display = ("user", "customer", "api_access", "created_at")
    list_filter = ("api_access",)
    autocomplete_fields = ("user", "customer")

    def get_readonly_fields(self, request: HttpRequest, obj: PortalAccount | None = None) -> tuple[str, ...]:
        # Whether a customer's integration may call the API is an administrator's decision.
        readonly = tuple(super().get_readonly_fields(request, obj))
        return readonly if is_administrator(request.user) else (*readonly, "api_access")


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
