from django.contrib import admin

from projects.models import Invitation, Membership, Project, Scene, Team


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "created_at"]
    inlines = [MembershipInline]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "team", "default_size", "updated_at"]
    list_filter = ["team"]


@admin.register(Scene)
class SceneAdmin(admin.ModelAdmin):
    list_display = ["title", "project", "position", "duration", "size", "version"]
    list_filter = ["project__team"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "team", "role", "expires_at", "accepted_at"]
    exclude = ["token"]
