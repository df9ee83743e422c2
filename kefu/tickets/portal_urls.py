from django.urls import path

from kefu.tickets import portal_views

urlpatterns = [
    path("", portal_views.portal_ticket_list, name="portal-ticket-list"),
    path("new/", portal_views.portal_ticket_new, name="portal-ticket-new"),
    path("new/fields/", portal_views.portal_category_fields, name="portal-ticket-category-fields"),
    path("<str:number>/", portal_views.portal_ticket_detail, name="portal-ticket-detail"),
    path(
        "<str:number>/attachments/<str:public_id>/",
        portal_views.portal_ticket_attachment,
        name="portal-ticket-attachment",
    ),
    path("<str:number>/<str:action>/", portal_views.portal_ticket_action, name="portal-ticket-action"),
]
