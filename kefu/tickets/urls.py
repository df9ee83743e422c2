from django.urls import path

from kefu.tickets import problem_views, views

urlpatterns = [
    path("", views.queue, name="ticket-queue"),
    path("bulk/", views.bulk, name="ticket-bulk"),
    path("counts/", views.queue_counts, name="ticket-queue-counts"),
    path("views/", views.saved_view_create, name="ticket-view-create"),
    path("views/<int:view_id>/delete/", views.saved_view_delete, name="ticket-view-delete"),
    path("new/", views.ticket_new, name="ticket-new"),
    path("new/fields/", views.category_fields, name="ticket-category-fields"),
    path("customers/lookup/", views.customer_lookup, name="ticket-customer-lookup"),
    path("calls/", views.call_log, name="ticket-calls"),
    path("<str:number>/", views.ticket_detail, name="ticket-detail"),
    path("<str:number>/attachments/<str:public_id>/", views.ticket_attachment, name="ticket-attachment"),
    path("<str:number>/presence/", views.ticket_presence, name="ticket-presence"),
    path("<str:number>/draft/", views.reply_draft, name="ticket-draft"),
    path("<str:number>/reveal-phone/", views.ticket_reveal_phone, name="ticket-reveal-phone"),
    path("<str:number>/problem/<str:op>/", problem_views.problem_action, name="ticket-problem"),
    path("<str:number>/<str:action>/", views.ticket_action, name="ticket-action"),
]
