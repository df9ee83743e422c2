"""Start-up heap settling, called by every server entry point once the application is loaded:
``kefu/wsgi.py``, ``kefu/asgi.py`` and the server's worker start (``kefu serve``)."""

import gc


def settle_heap() -> None:
    """Keep the cyclic garbage collector off the request path.

    Everything loaded at start-up (modules, URL patterns, API schemas) moves into the permanent
    generation, and a full (oldest-generation) collection waits for 1,000 middle-generation ones
    instead of 10: young collections stay cheap and frequent, while the full walk of every live
    object — 25–45 ms on the request that triggered it, every few dozen requests — becomes rare
    (docs/performance.md). Request garbage is freed by reference counting; cycles wait a little longer."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(700, 10, 1000)
