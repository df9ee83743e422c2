"""What each role may do by default. Each role is a Django group of the same name, created from this
table by migration ``0002_role_groups``; administrators may then change a group's permissions in the
admin, which is the source of truth from then on."""

from __future__ import annotations

from kefu.accounts.enums import Role

# "app_label.codename" strings.
CUSTOMER_READ = ("customers.view_customer", "customers.view_contact", "customers.view_customernote")
CUSTOMER_WRITE = (
    "customers.add_customer",
    "customers.change_customer",
    "customers.add_contact",
    "customers.change_contact",
    "customers.add_customernote",
)
PII = ("customers.view_personal_data",)
IMPORT_EXPORT = ("customers.import_customers", "customers.export_customers")
ASSIGN = ("customers.assign_account_agent",)
TEAM_READ = ("accounts.view_team", "accounts.view_user")
AUDIT_READ = ("core.view_auditevent",)

ROLE_PERMISSIONS: dict[Role, tuple[str, ...]] = {
    Role.AGENT: (*CUSTOMER_READ, *CUSTOMER_WRITE, *TEAM_READ),
    Role.LEAD: (*CUSTOMER_READ, *CUSTOMER_WRITE, *PII, *IMPORT_EXPORT, *ASSIGN, *TEAM_READ, *AUDIT_READ),
    Role.MANAGER: (
        *CUSTOMER_READ,
        *CUSTOMER_WRITE,
        *PII,
        *IMPORT_EXPORT,
        *ASSIGN,
        *TEAM_READ,
        *AUDIT_READ,
        "customers.delete_customer",
        "customers.delete_contact",
        "accounts.change_team",
        "accounts.change_user",
    ),
    Role.QA: (*CUSTOMER_READ, *TEAM_READ, *AUDIT_READ),
    Role.ANALYST: (*CUSTOMER_READ, *TEAM_READ, "customers.export_customers"),
    Role.ADMIN: (),  # administrators are superusers
    Role.CUSTOMER: (),  # portal access is decided by the portal account, not by permissions
}

# Roles that may open the Django admin (configuration).
ADMIN_SITE_ROLES = frozenset({Role.ADMIN, Role.MANAGER})
