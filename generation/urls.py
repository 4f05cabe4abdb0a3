from django.urls import path

from generation import views

app_name = "generation"

urlpatterns = [
    path("scenes/<int:scene_pk>/renders/", views.render_create, name="render_create"),
    path("takes/<int:pk>/", views.render_status, name="render_status"),
    path("takes/<int:pk>/retry/", views.render_retry, name="render_retry"),
    path("takes/<int:pk>/<str:variant>/", views.render_file, name="render_file"),
]
