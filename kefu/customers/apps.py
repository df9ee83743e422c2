from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "kefu.customers"
    label = "customers"
    verbose_name = _("客户")

    def ready(self) -> None:
        from kefu.core.masking import mask_address, mask_email, mask_name
        from kefu.core.web import mask_stored_phone, register_personal_data
        from kefu.customers.models import Contact, Customer

        register_personal_data(Customer, fields={"address": mask_address})
        register_personal_data(
            Contact,
            fields={
                "name": mask_name,
                "phone": mask_stored_phone,
                "email": mask_email,
                "wechat_id": mask_name,
            },
            shown_as=mask_name,  # a contact's str() is its name
        )
