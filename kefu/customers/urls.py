from django.urls import path

from kefu.customers import views

urlpatterns = [
    path("", views.customer_list, name="customer-list"),
    path("import/", views.customer_import, name="customer-import"),
    path("import/<str:job_id>/", views.customer_import_job, name="customer-import-job"),
    path("export.xlsx", views.customer_export, name="customer-export"),
    path("new/", views.customer_new, name="customer-new"),
    path("<str:public_id>/", views.customer_detail, name="customer-detail"),
    path("<str:public_id>/edit/", views.customer_edit, name="customer-edit"),
    path("<str:public_id>/contacts/new/", views.contact_new, name="contact-new"),
    path("<str:public_id>/contacts/<str:contact_id>/edit/", views.contact_edit, name="contact-edit"),
    path(
        "<str:public_id>/contacts/<str:contact_id>/reveal-phone/",
        views.contact_reveal_phone,
        name="contact-reveal-phone",
    ),
    path("<str:public_id>/notes/", views.customer_add_note, name="customer-add-note"),
    path("<str:public_id>/contacted/", views.customer_mark_contacted, name="customer-mark-contacted"),
]
