from django.urls import path

from projects.activity import views as inbox_views
from projects.audit import views as audit_views
from projects.characters import views as character_views
from projects.live import views as live_views
from projects.review import guest_views
from projects.review import views as review_views
from projects.storyboard import continuity_views, script_views, trash_views, views
from projects.storyboard.dialogue import views as dialogue_views
from projects.teams import views as team_views

app_name = "projects"

urlpatterns = [
    # The live channel: one stream per open page (Server-Sent Events), its fallback poll, presence.
    path("projects/<int:pk>/events/", live_views.project_events, name="project_events"),
    path("projects/<int:pk>/changes/", live_views.project_changes, name="project_changes"),
    path("projects/<int:pk>/presence/", live_views.project_presence, name="project_presence"),
    path("teams/<int:team_pk>/events/", live_views.team_events, name="team_events"),
    path("", views.project_list, name="project_list"),
    path("projects/<int:pk>/", views.project_detail, name="project_detail"),
    path("projects/<int:pk>/scenes/", views.scene_create, name="scene_create"),
    path("projects/<int:pk>/scenes/<int:scene_pk>/", views.scene_panel, name="scene_panel"),
    path("projects/<int:pk>/scenes/order/", views.scene_order, name="scene_order"),
    path("projects/<int:pk>/scenes/bulk/", views.scene_bulk, name="scene_bulk"),
    path("projects/<int:pk>/view/", views.board_view, name="board_view"),
    path("projects/<int:pk>/budget/", views.project_budget, name="project_budget"),
    path("projects/<int:pk>/script/", script_views.script_upload, name="script_upload"),
    path("projects/<int:pk>/script/<str:token>/", script_views.script_preview, name="script_preview"),
    path("projects/<int:pk>/storyboard.fountain", script_views.script_export, name="script_export"),
    path("projects/<int:pk>/policy/", views.project_policy, name="project_policy"),
    # The project's trash: deleted scenes wait here (restore, undo; owners delete forever).
    path("projects/<int:pk>/trash/", trash_views.project_trash, name="project_trash"),
    path("projects/<int:pk>/trash/restore/", trash_views.trash_restore, name="trash_restore"),
    path("projects/<int:pk>/trash/undo/", trash_views.trash_undo, name="trash_undo"),
    path("projects/<int:pk>/trash/delete/", trash_views.trash_delete, name="trash_delete"),
    path("projects/<int:pk>/trash/empty/", trash_views.trash_empty, name="trash_empty"),
    path("scenes/<int:pk>/", views.scene_card, name="scene_card"),
    path("scenes/<int:pk>/edit/", views.scene_edit, name="scene_edit"),
    path("scenes/<int:pk>/delete/", views.scene_delete, name="scene_delete"),
    path("scenes/<int:pk>/move/<str:direction>/", views.scene_move, name="scene_move"),
    path("scenes/<int:pk>/reference/", views.scene_reference, name="scene_reference"),
    path("scenes/<int:pk>/cast/", views.scene_cast, name="scene_cast"),
    path("scenes/<int:pk>/reference/<str:variant>/", views.scene_reference_image, name="scene_reference_image"),
    path("scenes/<int:pk>/approve/<int:take_pk>/", views.scene_approve, name="scene_approve"),
    path("scenes/<int:pk>/lines/", dialogue_views.line_add, name="line_add"),
    path("scenes/<int:scene_pk>/lines/<int:pk>/", dialogue_views.line_edit, name="line_edit"),
    path("scenes/<int:scene_pk>/lines/<int:pk>/delete/", dialogue_views.line_delete, name="line_delete"),
    path("scenes/<int:scene_pk>/lines/<int:pk>/move/<str:direction>/", dialogue_views.line_move, name="line_move"),
    path("scenes/<int:pk>/continuity/", continuity_views.scene_continuity, name="scene_continuity"),
    path("takes/<int:pk>/start-next/", continuity_views.take_start_next, name="take_start_next"),
    path("teams/new/", team_views.team_create, name="team_create"),
    path("teams/<int:team_pk>/switch/", team_views.team_switch, name="team_switch"),
    path("teams/<int:team_pk>/members/", team_views.team_members, name="team_members"),
    path("teams/<int:team_pk>/training/", team_views.team_training, name="team_training"),
    path("teams/<int:team_pk>/members/<int:member_pk>/", team_views.member_update, name="member_update"),
    path("teams/<int:team_pk>/budget/", team_views.team_budget, name="team_budget"),
    path("teams/<int:team_pk>/members/<int:member_pk>/budget/", team_views.member_budget, name="member_budget"),
    path("teams/<int:team_pk>/audit/", audit_views.team_audit, name="team_audit"),
    path("teams/<int:team_pk>/audit.csv", audit_views.team_audit_csv, name="team_audit_csv"),
    path("teams/<int:team_pk>/characters/", character_views.character_list, name="character_list"),
    path("characters/<int:pk>/", character_views.character_detail, name="character_detail"),
    path("characters/<int:pk>/images/<int:image_pk>/", character_views.character_image, name="character_image"),
    path("characters/<int:pk>/consent/", character_views.character_consent, name="character_consent"),
    path("characters/<int:pk>/revoke/", character_views.character_revoke, name="character_revoke"),
    path("account/likeness/", character_views.my_likeness, name="my_likeness"),
    path("account/notifications/", review_views.notification_settings, name="notification_settings"),
    path("inbox/", inbox_views.inbox, name="inbox"),
    path("inbox/read/", inbox_views.notifications_read_all, name="notifications_read_all"),
    path("inbox/<int:pk>/read/", inbox_views.notification_read, name="notification_read"),
    path("takes/<int:pk>/review/", review_views.take_review, name="take_review"),
    path("takes/<int:pk>/comments/", review_views.comment_create, name="comment_create"),
    path("takes/<int:pk>/decide/", review_views.take_decide, name="take_decide"),
    path("comments/<int:pk>/", review_views.comment_update, name="comment_update"),
    path("comments/<int:pk>/rerender/", review_views.comment_rerender, name="comment_rerender"),
    path("comments/<int:pk>/replies/", review_views.comment_reply, name="comment_reply"),
    path("scenes/<int:pk>/compare/", review_views.scene_compare, name="scene_compare"),
    path("projects/<int:pk>/cut/", review_views.project_cut, name="project_cut"),
    path("projects/<int:pk>/activity/", review_views.project_activity, name="project_activity"),
    path("projects/<int:pk>/review-links/", guest_views.review_links, name="review_links"),
    path("projects/<int:pk>/review-links/<int:link_pk>/revoke/", guest_views.review_link_revoke,
         name="review_link_revoke"),
    path("review/<str:token>/", guest_views.guest_review, name="guest_review"),
    path("review/<str:token>/events/", guest_views.guest_events, name="guest_events"),
    path("review/<str:token>/takes/<int:take_pk>/comments/", guest_views.guest_comment, name="guest_comment"),
    path("review/<str:token>/comments/<int:pk>/replies/", guest_views.guest_reply, name="guest_reply"),
    path("review/<str:token>/takes/<int:take_pk>/<str:variant>/", guest_views.guest_file, name="guest_file"),
]
