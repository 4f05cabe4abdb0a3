"""The team's audit log: who changed what, and when, in what the owners answer for (connections and
keys, the catalog and its prices, budgets and caps, model policies, members, consent, overrides of
failed checks, guest links, scenes deleted forever, the projects' own fields). Append-only: a row, once written, is never changed nor deleted here."""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    CONNECTION_ADDED = "connection_added", _("Connection added")
    CONNECTION_CHANGED = "connection_changed", _("Connection changed")
    CONNECTION_REMOVED = "connection_removed", _("Connection removed")
    WORKFLOW_UPLOADED = "workflow_uploaded", _("ComfyUI workflow uploaded")
    MODEL_REGISTERED = "model_registered", _("Model registered")
    CATALOG_EDITED = "catalog_edited", _("Catalog entry edited")
    CATALOG_RESET = "catalog_reset", _("Catalog entry back to shipped")
    CATALOG_REMOVED = "catalog_removed", _("Catalog entry removed")
    MODEL_ADDED_FROM_PROVIDER = "model_added_from_provider", _("Model added from the provider's list")
    PROVIDER_CHANGE_ACCEPTED = "provider_change_accepted", _("Provider's model change accepted")
    PROJECT_BUDGET_SET = "project_budget_set", _("Project budget set")
    TEAM_BUDGET_SET = "team_budget_set", _("Team monthly budget set")
    MEMBER_CAP_SET = "member_cap_set", _("Member monthly cap set")
    MODEL_POLICY_SET = "model_policy_set", _("Model policy set")
    INVITATION_SENT = "invitation_sent", _("Invitation sent")
    INVITATION_ACCEPTED = "invitation_accepted", _("Invitation accepted")
    INVITATION_REMOVED = "invitation_removed", _("Invitation withdrawn")
    MEMBER_ADDED = "member_added", _("Member added")
    ROLE_CHANGED = "role_changed", _("Role changed")
    MEMBER_REMOVED = "member_removed", _("Member removed")
    TRAINING_SET = "training_set", _("AI training setting changed")
    CONSENT_GRANTED = "consent_granted", _("Consent granted")
    CONSENT_CHANGED = "consent_changed", _("Consent changed")
    CONSENT_REVOKED = "consent_revoked", _("Consent revoked")
    DECLARED_FICTIONAL = "declared_fictional", _("Character declared fictional")
    APPROVED_DESPITE_CHECKS = "approved_despite_checks", _("Approved despite failed checks")
    REMIXED_DESPITE_CHECKS = "remixed_despite_checks", _("Remixed despite failed checks")
    EXTENDED_DESPITE_CHECKS = "extended_despite_checks", _("Extended despite failed checks")
    EXPORTED_DESPITE_CHECKS = "exported_despite_checks", _("Exported despite failed checks")
    GUEST_LINK_CREATED = "guest_link_created", _("Guest link created")
    GUEST_LINK_REVOKED = "guest_link_revoked", _("Guest link revoked")
    GUEST_DOWNLOADED = "guest_downloaded", _("Take downloaded by a guest")
    SCENES_DELETED_FOREVER = "scenes_deleted_forever", _("Scenes deleted forever")
    TRASH_EMPTIED = "trash_emptied", _("Trash emptied")
    TRASH_PURGED = "trash_purged", _("Trash cleared after its days")
    FIELD_ADDED = "field_added", _("Field added")
    FIELD_CHANGED = "field_changed", _("Field renamed or its choices changed")
    FIELD_DELETED = "field_deleted", _("Field deleted")


A = AuditAction
# The log page's filter: an area a person picks → the actions it shows (in this order on the page).
AUDIT_AREAS = {
    "connections": (_("Connections and keys"), [A.CONNECTION_ADDED, A.CONNECTION_CHANGED, A.CONNECTION_REMOVED,
                                                  A.WORKFLOW_UPLOADED]),
    "catalog": (_("Catalog and prices"), [A.MODEL_REGISTERED, A.CATALOG_EDITED, A.CATALOG_RESET,
                                          A.CATALOG_REMOVED, A.MODEL_ADDED_FROM_PROVIDER,
                                          A.PROVIDER_CHANGE_ACCEPTED]),
    "budgets": (_("Budgets and caps"), [A.PROJECT_BUDGET_SET, A.TEAM_BUDGET_SET, A.MEMBER_CAP_SET]),
    "policies": (_("Model policies"), [A.MODEL_POLICY_SET]),
    "members": (_("Members, roles and invitations"), [A.INVITATION_SENT, A.INVITATION_ACCEPTED,
                                                      A.INVITATION_REMOVED, A.MEMBER_ADDED, A.ROLE_CHANGED,
                                                      A.MEMBER_REMOVED, A.TRAINING_SET]),
    "consent": (_("Consent"), [A.CONSENT_GRANTED, A.CONSENT_CHANGED, A.CONSENT_REVOKED, A.DECLARED_FICTIONAL]),
    "overrides": (_("Overrides of failed checks"), [A.APPROVED_DESPITE_CHECKS, A.REMIXED_DESPITE_CHECKS,
                                                   A.EXTENDED_DESPITE_CHECKS, A.EXPORTED_DESPITE_CHECKS]),
    "guests": (_("Guest links and downloads"), [A.GUEST_LINK_CREATED, A.GUEST_LINK_REVOKED, A.GUEST_DOWNLOADED]),
    "trash": (_("Scenes deleted forever"), [A.SCENES_DELETED_FOREVER, A.TRASH_EMPTIED, A.TRASH_PURGED]),
    "fields": (_("The projects' own fields"), [A.FIELD_ADDED, A.FIELD_CHANGED, A.FIELD_DELETED]),
}
del A


class AppendOnly(ValueError):
    """Someone tried to change or delete an audit entry."""


class AuditEntryQuerySet(models.QuerySet):
    # Bulk paths too: QuerySet.update() and .delete() skip the model's own save() and delete().
    def update(self, **kwargs):
        raise AppendOnly("The audit log is append-only: entries cannot be changed.")

    def delete(self):
        raise AppendOnly("The audit log is append-only: entries cannot be deleted.")

    # As Django's own: no Manager.delete(). Django reads the flag off the function, which the stubs do not know.
    delete.queryset_only = True  # type: ignore[attr-defined]


class AuditEntry(models.Model):
    """One change. `actor_name`, `target_label` and `details` are written as they were at the time:
    the log still reads right after a rename, a removal or a deleted account.

    No foreign key but the team's can rewrite a row: the actor's id is kept as it was (no SET_NULL
    update when an account goes), the target is a type, an id and a label. The admin, which may not
    delete an entry, therefore refuses to delete a team that has any."""

    # The words the log page and its CSV show, set by projects/audit/selectors.describe.
    who: str
    action_label: str
    target_type_label: str
    summary: str

    # The composite indexes below start with the team (and the actor): no index of their own.
    team = models.ForeignKey("projects.Team", on_delete=models.CASCADE, related_name="audit_entries",
                             db_index=False)
    at = models.DateTimeField(default=timezone.now, editable=False)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False,
                              null=True, blank=True, related_name="+", editable=False, db_index=False)
    actor_name = models.CharField(max_length=150, blank=True,
                                  help_text="The username then, a guest's name, or empty for the studio itself")
    action = models.CharField(max_length=32, choices=AuditAction.choices, editable=False)
    target_type = models.CharField(max_length=32, blank=True, editable=False)
    target_id = models.PositiveBigIntegerField(null=True, blank=True, editable=False)
    target_label = models.CharField(max_length=300, blank=True, editable=False)
    details = models.JSONField(default=dict, blank=True, editable=False, encoder=DjangoJSONEncoder,
                               help_text="What changed (before → after) and the facts around it; never a secret")

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        # Newest first, by id: ids only grow, so "older than this id" pages through a long history.
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["team", "id"], name="audit_team_id_idx"),
            models.Index(fields=["team", "action", "id"], name="audit_team_action_idx"),
            models.Index(fields=["team", "actor", "id"], name="audit_team_actor_idx"),
        ]
        verbose_name_plural = "audit entries"

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name or 'studio'} {self.action} {self.target_label}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnly("The audit log is append-only: entries cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnly("The audit log is append-only: entries cannot be deleted.")
