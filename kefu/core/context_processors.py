from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict[str, Any]:
    """What the top bar shows: the signed-in user's role and the sections they may open."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": []}
    from kefu.accounts.navigation import sections_for

    return {"nav": sections_for(user)}
