from django.contrib.auth import views as auth_views
from django.urls import path

from kefu.accounts import views
from kefu.accounts.lockout import LoginForm

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="accounts/login.html", authentication_form=LoginForm),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("me/availability/", views.set_availability, name="set-availability"),
]
