"""What each role may do by default. Each role is a Django group of the same name, created from this
table by migrations ``accounts/0002_role_groups`` and ``tickets/0002_reference_data``; administrators
may then change a group's permissions in the admin, which is the source of truth from then on."""

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
# Seeing one contact's whole phone number of a ticket one may see, with a reason, logged (to call back).
REVEAL = ("customers.reveal_contact_phone",)
IMPORT_EXPORT = ("customers.import_customers", "customers.export_customers")
ASSIGN = ("customers.assign_account_agent",)
TEAM_READ = ("accounts.view_team", "accounts.view_user")
AUDIT_READ = ("core.view_auditevent",)
TICKET_READ = ("tickets.view_ticket", "tickets.view_calllog")
TICKET_WORK = (*TICKET_READ, "tickets.add_ticket", "tickets.change_ticket", "tickets.add_calllog")
TICKET_ALL = ("tickets.view_all_tickets",)
PROBLEMS = ("tickets.manage_problem",)

ROLE_PERMISSIONS: dict[Role, tuple[str, ...]] = {
    Role.AGENT: (*CUSTOMER_READ, *CUSTOMER_WRITE, *REVEAL, *TEAM_READ, *TICKET_WORK),
    Role.LEAD: (
        *CUSTOMER_READ,
        *CUSTOMER_WRITE,
        *PII,
        *REVEAL,
        *IMPORT_EXPORT,
        *ASSIGN,
        *TEAM_READ,
        *AUDIT_READ,
        *TICKET_WORK,
        *PROBLEMS,
    ),
    Role.MANAGER: (
        *CUSTOMER_READ,
        *CUSTOMER_WRITE,
        *PII,
        *REVEAL,
        *IMPORT_EXPORT,
        *ASSIGN,
        *TEAM_READ,
        *AUDIT_READ,
        *TICKET_WORK,
        *PROBLEMS,
        *TICKET_ALL,
        "customers.delete_customer",
        "customers.delete_contact",
        "accounts.change_team",
        "accounts.change_user",
    ),
    Role.QA: (*CUSTOMER_READ, *TEAM_READ, *AUDIT_READ, *TICKET_READ, *TICKET_ALL),
    Role.ANALYST: (*CUSTOMER_READ, *TEAM_READ, "customers.export_customers", *TICKET_READ, *TICKET_ALL),
    Role.ADMIN: (),  # administrators are superusers
    Role.CUSTOMER: (),  # portal access is decided by the portal account, not by permissions
}

# Roles that may open the Django admin (configuration).
ADMIN_SITE_ROLES = frozenset({Role.ADMIN, Role.MANAGER})

# Roles whose members handle tickets: the people a ticket may be assigned to.
HANDLING_ROLES = frozenset({Role.AGENT, Role.LEAD, Role.MANAGER})
