from django.urls import path

from kefu.customers import portal_views

urlpatterns = [
    path("", portal_views.portal_home, name="portal-home"),
]
