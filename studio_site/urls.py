from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from generation import health
from projects import team_views

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("invitations/<str:token>/", team_views.invitation_accept, name="invitation_accept"),
    path("healthz", health.healthz, name="health"),
    path("livez", health.livez, name="live"),
    path("admin/", admin.site.urls),
    path("", include("generation.urls")),
    path("", include("projects.urls")),
]
