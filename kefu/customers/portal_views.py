"""The customer portal: a portal user sees only its own organization."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from kefu.core.web import AuthedRequest, portal_view
from kefu.customers import selectors, services
from kefu.tickets import selectors as ticket_selectors

AWAITING_ON_HOME = 5


@portal_view
def portal_home(request: AuthedRequest) -> HttpResponse:
    account = request.user.portal_account
    customer = selectors.customer_detail(request.user, account.customer.public_id)
    contacts = list(customer.contacts.all())
    services.record_pii_view(actor=request.user, customer=customer, contacts=contacts, where="portal")
    contacts_view = [selectors.contact_view(c, reveal=True) for c in contacts]
    awaiting = ticket_selectors.ticket_list(
        request.user, filters=ticket_selectors.portal_state_filters("resolved")
    )[:AWAITING_ON_HOME]
    return render(
        request,
        "customers/portal_home.html",
        {
            "customer": customer,
            "contacts": contacts_view,
            "address": selectors.customer_address(customer, reveal=True),
            "ticket_counts": ticket_selectors.portal_state_counts(request.user),
            "ticket_states": [(key, label) for key, (label, _c) in ticket_selectors.PORTAL_STATES.items()],
            "awaiting": list(awaiting),
        },
    )
