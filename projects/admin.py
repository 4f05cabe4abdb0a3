from django.contrib import admin

from projects.audit.admin import AdminAudit, AuditedAdmin
from projects.models import AuditAction, AuditEntry, Invitation, Membership, Project, Scene, Team

MEMBERSHIP_AUDIT = AdminAudit[Membership](
    teams_of=lambda m: [m.team_id], label_of=lambda m: m.user.get_username(),
    fields={"role": AuditAction.ROLE_CHANGED, "monthly_budget": AuditAction.MEMBER_CAP_SET},
    added=AuditAction.MEMBER_ADDED, removed=AuditAction.MEMBER_REMOVED, facts=lambda m: {"role": m.role},
    names={"monthly_budget": "monthly_cap"})


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(Team)
class TeamAdmin(AuditedAdmin):
    list_display = ["name", "created_at"]
    inlines = [MembershipInline]
    audit = AdminAudit[Team](teams_of=lambda t: [t.pk], label_of=str,
                       fields={"monthly_budget": AuditAction.TEAM_BUDGET_SET,
                               "do_not_train": AuditAction.TRAINING_SET})
    inline_audits = {Membership: MEMBERSHIP_AUDIT}


@admin.register(Project)
class ProjectAdmin(AuditedAdmin):
    list_display = ["name", "team", "default_size", "updated_at"]
    list_filter = ["team"]
    audit = AdminAudit[Project](teams_of=lambda p: [p.team_id], label_of=str,
                       fields={"budget": AuditAction.PROJECT_BUDGET_SET,
                               "allowed_models": AuditAction.MODEL_POLICY_SET,
                               "max_price_per_second": AuditAction.MODEL_POLICY_SET})


@admin.register(Scene)
class SceneAdmin(admin.ModelAdmin):
    list_display = ["title", "project", "position", "duration", "size", "version", "trashed_at", "purged_at"]
    list_filter = ["project__team"]

    def get_queryset(self, request):
        # Operators see scenes in a trash, and those deleted forever (kept for their spend), too.
        return Scene.all_objects.select_related("project")


@admin.register(Invitation)
class InvitationAdmin(AuditedAdmin):
    list_display = ["email", "team", "role", "expires_at", "accepted_at"]
    exclude = ["token"]
    audit = AdminAudit[Invitation](teams_of=lambda i: [i.team_id], label_of=lambda i: i.email,
                       fields={"role": AuditAction.INVITATION_SENT, "email": AuditAction.INVITATION_SENT},
                       added=AuditAction.INVITATION_SENT, removed=AuditAction.INVITATION_REMOVED,
                       facts=lambda i: {"role": i.role})


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Operators may read the log; nobody may add, change or delete an entry, here or anywhere."""

    list_display = ["at", "team", "actor_name", "action", "target_type", "target_label"]
    list_filter = ["action"]
    search_fields = ["team__name", "actor_name", "target_label"]
    readonly_fields = [f.name for f in AuditEntry._meta.fields]
    actions = None

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
