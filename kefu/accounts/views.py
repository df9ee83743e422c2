from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.accounts import services
from kefu.accounts.enums import Availability
from kefu.accounts.http import AuthedRequest
from kefu.core.errors import ValidationFailed
from kefu.core.web import staff_view


@require_POST
@staff_view()
def set_availability(request: AuthedRequest) -> HttpResponse:
    value = request.POST.get("availability", "")
    try:
        services.user_set_availability(
            actor=request.user, user=request.user, availability=Availability(value)
        )
    except (ValueError, ValidationFailed):
        return render(
            request, "400.html", {"message": _("未知的在线状态：%(value)s") % {"value": value}}, status=400
        )
    return redirect("home")
