from django.urls import path

from kefu.home import views

urlpatterns = [
    path("", views.home, name="home"),
    path("teams/", views.team_list, name="team-list"),
    path("portal/", views.portal_home, name="portal-home"),
]
