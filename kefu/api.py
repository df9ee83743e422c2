"""API v1: one NinjaAPI with a router per bounded context."""

from kefu.accounts.api import router as accounts_router
from kefu.accounts.services import token_authenticate
from kefu.core.api import build_api
from kefu.customers.api import router as customers_router
from kefu.tickets.api import router as tickets_router

api = build_api(
    token_check=token_authenticate, title="kefu API", version="1", urls_namespace="api-v1", docs_url="/docs"
)
api.add_router("/", accounts_router)
api.add_router("/customers", customers_router)
api.add_router("/tickets", tickets_router)
