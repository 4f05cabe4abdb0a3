from django.urls import path, re_path

from generation.exports import cut_views
from generation.exports import views as export_views
from generation.providers import catalog_sync_views, connection_views, workflow_views
from generation.renders import batch_views, retarget_views, shot_group_views, views
from generation.spend import views as spend_views

app_name = "generation"

urlpatterns = [
    path("scenes/<int:scene_pk>/renders/", views.render_create, name="render_create"),
    path("scenes/<int:scene_pk>/renders/preview/", views.render_preview, name="render_preview"),
    path("scenes/<int:pk>/frames/<str:role>/", views.scene_frame, name="scene_frame"),
    path("takes/<int:pk>/", views.render_status, name="render_status"),
    path("takes/<int:pk>/retry/", views.render_retry, name="render_retry"),
    path("takes/<int:pk>/cancel/", views.render_cancel, name="render_cancel"),
    path("takes/<int:pk>/remix/", views.render_remix, name="render_remix"),
    path("takes/<int:pk>/extend/", views.render_extend, name="render_extend"),
    path("takes/<int:pk>/extend/preview/", views.render_extend_preview, name="render_extend_preview"),
    re_path(r"^takes/(?P<pk>[0-9]+)/(?P<variant>video|thumbnail)/$", views.render_file, name="render_file"),
    path("takes/<int:pk>/multi-shot/", shot_group_views.shot_group_play, name="shot_group_play"),
    path("takes/<int:pk>/multi-shot/video/", shot_group_views.shot_group_file, name="shot_group_file"),
    path("takes/<int:pk>/multi-shot/again/", shot_group_views.shot_group_again, name="shot_group_again"),
    path("takes/<int:pk>/alone/", shot_group_views.shot_part_alone, name="shot_part_alone"),
    path("webhooks/<str:token>/", views.webhook, name="webhook"),
    path("teams/<int:team_pk>/connections/", connection_views.connection_list, name="connection_list"),
    path("teams/<int:team_pk>/connections/<int:pk>/", connection_views.connection_edit, name="connection_edit"),
    path("teams/<int:team_pk>/connections/<int:pk>/test/", connection_views.connection_test, name="connection_test"),
    path("teams/<int:team_pk>/connections/<int:pk>/status/", connection_views.connection_status,
         name="connection_status"),
    path("teams/<int:team_pk>/connections/<int:pk>/models/", connection_views.model_register,
         name="model_register"),
    path("teams/<int:team_pk>/connections/<int:pk>/catalog/", catalog_sync_views.connection_catalog,
         name="connection_catalog"),
    path("teams/<int:team_pk>/connections/<int:pk>/catalog/check/", catalog_sync_views.catalog_check,
         name="catalog_check"),
    path("teams/<int:team_pk>/connections/<int:pk>/catalog/changes/", catalog_sync_views.catalog_changes_accept,
         name="catalog_changes_accept"),
    path("teams/<int:team_pk>/connections/<int:pk>/catalog/<int:entry_pk>/", connection_views.catalog_entry_edit,
         name="catalog_entry_edit"),
    path("teams/<int:team_pk>/connections/<int:pk>/workflows/new/", workflow_views.workflow_upload,
         name="workflow_upload"),
    path("teams/<int:team_pk>/connections/<int:pk>/workflows/<int:workflow_pk>/", workflow_views.workflow_map,
         name="workflow_map"),
]

urlpatterns += [  # exports of the approved cut
    path("projects/<int:project_pk>/render/", batch_views.batch_render, name="batch_render"),
    path("projects/<int:project_pk>/multi-shot/", shot_group_views.shot_group_new, name="shot_group_new"),
    path("projects/<int:project_pk>/retarget/", retarget_views.scene_retarget, name="scene_retarget"),
    path("projects/<int:project_pk>/exports/", export_views.export_list, name="export_list"),
    path("projects/<int:project_pk>/exports/new/", export_views.export_create, name="export_create"),
    path("exports/<int:pk>/", export_views.export_status, name="export_status"),
    path("exports/<int:pk>/<str:kind>/", export_views.export_file, name="export_file"),
    path("projects/<int:project_pk>/editors-cut/", cut_views.cut_import_upload, name="cut_import_upload"),
    path("projects/<int:project_pk>/editors-cut/<int:pk>/", cut_views.cut_import_detail, name="cut_import_detail"),
]

urlpatterns += [  # spend: where the money went, and what providers billed
    path("teams/<int:team_pk>/spend/", spend_views.team_spend, name="team_spend"),
    path("teams/<int:team_pk>/spend.csv", spend_views.team_spend_csv, name="team_spend_csv"),
    path("projects/<int:pk>/spend/", spend_views.project_spend, name="project_spend"),
    path("projects/<int:pk>/spend.csv", spend_views.project_spend_csv, name="project_spend_csv"),
    path("teams/<int:team_pk>/reconciliations/", spend_views.reconciliation_list, name="reconciliation_list"),
    path("teams/<int:team_pk>/reconciliations/<int:pk>/", spend_views.reconciliation_detail,
         name="reconciliation_detail"),
]
