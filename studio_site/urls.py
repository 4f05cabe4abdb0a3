from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from generation import health
from projects.teams import account_views
from projects.teams import views as team_views

urlpatterns = [
    path("login/", account_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("account/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("password-reset/", account_views.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("password-reset/<uidb64>/<token>/", account_views.PasswordResetConfirmView.as_view(),
         name="password_reset_confirm"),
    path("password-reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("invitations/<str:token>/", team_views.invitation_accept, name="invitation_accept"),
    # The strings static/studio/*.js shows, in the page's language (gettext() in the browser).
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript_catalog"),
    path("healthz", health.healthz, name="health"),
    path("livez", health.livez, name="live"),
    path("admin/", admin.site.urls),
    path("", include("generation.urls")),
    path("", include("projects.urls")),
]
