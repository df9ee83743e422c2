"""Demo data and benchmark-scale synthetic data.

``seed_demo`` (:mod:`.department`) builds a small, realistic customer-service department of a Chinese
logistics company — teams, staff in every role, ~500 customers (:mod:`.people`), 90 days of ticket
history, today's live queue and the scenes that show every feature (:mod:`.scenes`) — through the
ordinary services, so groups, permissions, account agents, the audit log and notifications are what real
use produces. ``seed_bulk`` (:mod:`.bulk`) writes N synthetic customers and tickets straight to the
tables with ``bulk_create`` for benchmarks: fast and valid, but with **no audit rows**.

Every ticket is told from one story (:mod:`.stories`): one route, one cargo, one amount, so that its
subject, description, custom fields, conversation and summary agree.

Both are deterministic for a given seed (``random.Random(seed)`` and a seeded ``Faker('zh_CN')``);
only ids, public ids, password salts and timestamps differ between runs. E-mail addresses use
``example.com`` domains so that demo data can never mail a real person.
"""

from kefu.demo.bulk import analyze, seed_bulk, seed_tickets
from kefu.demo.department import DEMO_LIVE_TICKETS, DEMO_TICKETS, demo_exists, demo_logins, seed_demo
from kefu.demo.people import DEMO_CUSTOMERS, DEMO_PASSWORD

__all__ = [
    "DEMO_CUSTOMERS",
    "DEMO_LIVE_TICKETS",
    "DEMO_PASSWORD",
    "DEMO_TICKETS",
    "analyze",
    "demo_exists",
    "demo_logins",
    "seed_bulk",
    "seed_demo",
    "seed_tickets",
]
