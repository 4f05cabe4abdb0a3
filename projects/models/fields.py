"""Fields of the team's own: per project, owners name the facts a scene carries beyond the studio's own
(shot type, lens, location, time of day …); editors fill them in.

A field is a row of the project; a scene's values live on the scene (`Scene.field_values`, keyed by the
field's id), so the board draws 200 frames' values without a query per frame, and a value travels with the
scene into the trash and back.
"""

from django.db import models
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

MAX_FIELDS = 30  # a project's fields: more would not fit a panel, let alone a frame
MAX_FIELD_NAME = 60
MAX_CHOICES = 100  # choices of a choice field: a list to pick from, not a vocabulary
MAX_CHOICE = 60  # characters of one choice or one tag
MAX_TAGS = 20  # tags on one scene, for one field
MAX_TEXT_VALUE = 200  # a text field is a short fact ("Rooftop, north side"); the prompt is the long text
MAX_NUMBER = 10**9

# A value as `Scene.field_values` holds it: tags are a list, every other kind a string ("" when empty).
FieldValue = str | list[str]


class FieldKind(models.TextChoices):
    TEXT = "text", _("Text")
    NUMBER = "number", _("Number")
    CHOICE = "choice", _("Choice (one of a list)")
    TAGS = "tags", _("Tags (any number)")


class ProjectField(models.Model):
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="fields")
    name = models.CharField(max_length=MAX_FIELD_NAME)
    kind = models.CharField(max_length=8, choices=FieldKind.choices)
    # A choice field's list, in the order it is offered; tags may also offer some (any others are allowed).
    choices = models.JSONField(default=list, blank=True)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="project_field_name_unique")]

    def __str__(self) -> str:
        return self.name

    @property
    def choices_text(self) -> str:
        """The list as its form shows it, one a line."""
        return "\n".join(self.choices)

    @property
    def filter_key(self) -> str:
        """Its query parameter on the board: "Shot type" → ?shot_type=Wide."""
        return slugify(self.name).replace("-", "_")

    @property
    def key(self) -> str:
        """Its key in `Scene.field_values`."""
        return str(self.pk)
