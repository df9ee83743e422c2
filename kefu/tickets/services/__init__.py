"""Every write to a ticket, one module per use case: ``create``, ``edit`` (fields, tags, waybills,
assignment), ``lifecycle`` (every status change), ``reopening``, ``messages``, ``work_orders``,
``merge_split_link``, ``incidents`` and ``problems``; ``rules`` holds the desk's rules the pages ask
before writing, ``common`` and ``conflicts`` what the writes share.

Each service is one transaction, validates before it saves, bumps the ticket's ``version`` and writes
an audit event with the actor and the changed fields (old → new).

Concurrency: writers row-lock the ticket (``access.access_ticket(..., lock=True)`` or ``common.lock``;
several tickets in pk order, ``common.lock_many``); edits that carry the ``version`` the user read fail
with Conflict (HTTP 409) when the ticket changed since, naming what changed; tag edits are add/remove
operations, so concurrent edits merge.
"""
