from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from projects import team_views, views as project_views

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("invitations/<str:token>/", team_views.invitation_accept, name="invitation_accept"),
    path("healthz", project_views.health, name="health"),
    path("admin/", admin.site.urls),
    path("", include("generation.urls")),
    path("", include("projects.urls")),
]
