from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from kefu.api import api
from kefu.core import views as core_views

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("notifications/", core_views.notification_list, name="notification-list"),
    path("notifications/bell/", core_views.notification_bell, name="notification-bell"),
    path("notifications/read-all/", core_views.notification_read_all, name="notification-read-all"),
    path("notifications/<int:notification_id>/read/", core_views.notification_read, name="notification-read"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("api/docs", RedirectView.as_view(url="/api/v1/docs", permanent=False), name="api-docs"),
    path("", include("kefu.home.urls")),
    path("", include("kefu.accounts.urls")),
    path("customers/", include("kefu.customers.urls")),
    path("tickets/", include("kefu.tickets.urls")),
    path("portal/tickets/", include("kefu.tickets.portal_urls")),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
