"""Tickets endpoints (``/api/v1/tickets``): parse, access, call a service or selector, serialize.

Who may do what is decided by ``kefu.tickets.access`` (which tickets exist for you: others are 404, no
hint) and then per action: staff writers (``require_agent_write``; QA and analysts read only), portal
users (their organization's tickets; create, reply, attach, accept or reject a resolution — never
notes, assignment or transitions, and never an internal note in any answer).

    tickets        list, changes, create, detail, edit, lifecycle, accept / reject
    conversation   messages, replies, notes, attachments
    collaboration  merge, split, links, subtasks, problems and incidents
    schemas        request and response schemas;  common  the helpers they share

Endpoints declare a single status and return the bare body (ninja 1.7 deprecates ``(status, body)``).
"""

# Importing the endpoint modules registers their endpoints on the shared router.
from kefu.tickets.api import collaboration, conversation, tickets  # noqa: F401
from kefu.tickets.api.common import router

__all__ = ["router"]
