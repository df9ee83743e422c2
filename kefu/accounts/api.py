from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

router = Router(tags=["accounts"])


class MeOut(Schema):
    username: str
    full_name: str
    role: str
    availability: str


@router.get("/me", response=MeOut, summary="The authenticated user")
def me(request: HttpRequest) -> MeOut:
    user = request.user
    return MeOut(
        username=user.get_username(),
        full_name=getattr(user, "full_name", ""),
        role=getattr(user, "role", ""),
        availability=getattr(user, "availability", ""),
    )
