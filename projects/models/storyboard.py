"""Projects and their ordered scenes."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from projects.models.characters import Character

SIZE_CHOICES = [
    ("1280x720", _("1280×720 landscape (720p)")),
    ("720x1280", _("720×1280 portrait (720p)")),
    ("1920x1080", _("1920×1080 landscape (1080p)")),
    ("1080x1920", _("1080×1920 portrait (1080p)")),
    ("1024x1024", _("1024×1024 square")),
]
# Scene fields a take's recipe is made from: editing one after approval makes the approval stale.
# (The cast is whoever the prompt @mentions, so a cast change is a prompt change; "dialogue" is the
# scene's lines, sent with the prompt.)
RECIPE_FIELDS = ("prompt", "duration", "size", "camera_notes", "dialogue")
STALE_FIELD_WORDS = {"prompt": "prompt (or cast)", "duration": "duration", "size": "size",
                     "camera_notes": "camera notes", "reference_image": "reference image", "dialogue": "dialogue",
                     "start_frame": "start frame", "end_frame": "end frame"}


class StartFrom(models.TextChoices):
    """What a take of the scene starts from (the start frame of image-to-video)."""

    OWN = "", _("its own reference image (or the prompt alone)")
    PREVIOUS = "previous", _("the last frame of the scene before it")


class EndOn(models.TextChoices):
    """What a take of the scene ends on, for models that take an end frame."""

    NOTHING = "", _("wherever the model takes it")
    IMAGE = "image", _("an image")
    NEXT = "next", _("the first frame of the scene after it")


MIN_SCENE_SECONDS = 1
MAX_SCENE_SECONDS = 20


class Project(models.Model):
    team = models.ForeignKey("projects.Team", on_delete=models.CASCADE, related_name="projects")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    default_size = models.CharField(max_length=16, choices=SIZE_CHOICES, default="1280x720")
    default_duration = models.PositiveSmallIntegerField(
        default=4,
        validators=[MinValueValidator(MIN_SCENE_SECONDS), MaxValueValidator(MAX_SCENE_SECONDS)],
    )
    budget = models.DecimalField(
        "Render budget (US$)", max_digits=10, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(0)],
        help_text="Takes that would spend past this are refused before they reach a provider. Empty: no limit.",
    )
    render_spend = models.DecimalField(
        max_digits=12, decimal_places=4, default=0, editable=False,
        help_text="Estimated cost of every take booked, less takes that never reached a provider. "
                  "Deleting a scene does not give its takes' money back.",
    )
    # The model policy: which models anyone (owners too, until they change it) may book here.
    allowed_models = models.JSONField(
        default=list, blank=True, help_text="Model ids that may be booked; empty: any model the team has")
    max_price_per_second = models.DecimalField(
        "Price ceiling (US$ per second)", max_digits=8, decimal_places=4, null=True, blank=True,
        validators=[MinValueValidator(0)], help_text="Models costing more a second are refused; empty: no ceiling")
    # Sound: the language plain speaker names speak by default, the pause around lines when a scene
    # fits its dialogue, and how loud takes' own sound (native-audio models) plays under the voice-over.
    voice_language = models.CharField(max_length=8, default="en-us")
    dialogue_pause = models.DecimalField(max_digits=3, decimal_places=1, default=Decimal("0.5"),
                                         validators=[MinValueValidator(0), MaxValueValidator(3)])
    take_audio_level_db = models.FloatField(default=0, validators=[MinValueValidator(-60), MaxValueValidator(6)])
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]

    def __str__(self):
        return self.name


def _end_image_upload_to(scene, filename):
    import uuid

    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    suffix = suffix if suffix in {"jpg", "png", "webp"} else "bin"
    return f"references/{scene.project.team_id}/{scene.project_id}/{scene.pk}/end-{uuid.uuid4().hex}.{suffix}"


def _reference_upload_to(scene, filename):
    # A new name per upload: takes keep pointing at the original they used.
    import uuid

    # The service names the file from what Pillow detected; anything else is kept as a download.
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    suffix = suffix if suffix in {"jpg", "png", "webp"} else "bin"
    return f"references/{scene.project.team_id}/{scene.project_id}/{scene.pk}/{uuid.uuid4().hex}.{suffix}"


class SceneQuerySet(models.QuerySet):
    def in_trash(self):
        """Scenes someone deleted that can still be restored (not deleted forever)."""
        return self.filter(trashed_at__isnull=False, purged_at__isnull=True)

    def in_cut(self):
        """Scenes the cut plays (Play all, exports, a guest link to the approved cut): a scene the editor
        dropped from the cut stays on the board, out of the cut, until it is put back."""
        return self.filter(in_cut=True)


_SceneManager = models.Manager.from_queryset(SceneQuerySet)


class BoardSceneManager(_SceneManager):
    """`Scene.objects` (and `project.scenes`, `character.scenes`, a guest link's scenes): the scenes on the
    board. A scene in the trash, or deleted forever, is on no page, cut, export, batch, guest link or live
    board; only `Scene.all_objects` sees it (the trash itself, restoring, and money: its takes' spend)."""

    def get_queryset(self):
        return super().get_queryset().filter(trashed_at__isnull=True)


class Scene(models.Model):
    # Set on the rows a page reads by the selectors that build it (projects/selectors/), not columns.
    review_status: str
    cast_list: list[Character]
    target_kind: str

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="scenes")
    position = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    # The action. May be empty when the scene has dialogue lines: what a take sends is both (dialogue.py).
    prompt = models.TextField(max_length=32000, blank=True)
    duration = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(MIN_SCENE_SECONDS), MaxValueValidator(MAX_SCENE_SECONDS)],
        help_text="Seconds",
    )
    size = models.CharField(max_length=16, choices=SIZE_CHOICES)
    camera_notes = models.CharField(max_length=500, blank=True)
    reference_image = models.FileField(upload_to=_reference_upload_to, blank=True, max_length=300,
                                       help_text="Image-to-video: the first frame or look to start from")
    cast = models.ManyToManyField("projects.Character", blank=True, related_name="scenes",
                                  help_text="Characters in the scene (also @mentioned in the prompt)")
    reference_fit = models.CharField(max_length=8, choices=[("crop", _("Crop to fill")), ("pad", _("Pad to fit"))],
                                     default="crop")
    # Optimistic locking: every save bumps it; a save based on an older
    # version is refused instead of overwriting a colleague's edit.
    version = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    approved_take = models.ForeignKey(
        "generation.Render", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    # The model the scene renders with, when one was chosen for it (the render form starts on it; a
    # re-target moves it). Unset: the scene uses whatever its latest take used.
    target_connection = models.ForeignKey(
        "generation.ProviderConnection", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    target_model = models.CharField(max_length=200, blank=True, help_text="The chosen model's id")
    approval_stale_fields = models.JSONField(
        default=list, blank=True,
        help_text="What of the scene's recipe was edited since its take was approved (empty: the approval holds)")
    # Continuity with its neighbours (generation/renders/continuity.py resolves these to frames).
    start_from = models.CharField(max_length=16, choices=StartFrom.choices, blank=True, default="")
    start_take = models.ForeignKey(
        "generation.Render", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        help_text="A take chosen in the player to start from; empty: the previous scene's approved take")
    start_frame = models.PositiveIntegerField(
        null=True, blank=True, help_text="The frame of start_take to start from; empty: its last frame")
    end_on = models.CharField(max_length=16, choices=EndOn.choices, blank=True, default="")
    end_image = models.FileField(upload_to=_end_image_upload_to, blank=True, max_length=300,
                                 help_text="The image a take ends on, when it ends on an image")
    # Its duration follows its spoken lines (and the project's pause): re-timed when a line changes.
    fit_to_dialogue = models.BooleanField(default=False)
    # In the cut (Play all, exports, a guest link to the approved cut) or only on the board: an editor's
    # cut that drops the scene takes it out of the cut, never off the board (generation/exports/cut_import.py).
    in_cut = models.BooleanField(default=True)
    # The values of the project's own fields (projects/models/fields.py), by the field's id: a text, a number
    # or a choice as text, tags as a list of text. A field deleted takes its key out of every scene.
    field_values = models.JSONField(default=dict, blank=True)
    # The trash (projects/storyboard/trash.py). A deleted scene keeps its takes, comments and approvals,
    # and `position` keeps the place it had, until it is restored or deleted forever.
    trashed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    trashed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    trash_batch = models.UUIDField(null=True, blank=True, db_index=True,
                                   help_text="The delete it went with: its Undo restores that delete's scenes")
    # Its neighbours on the board when it left (scene ids; none: it was first / last): restoring puts it
    # back between them while they are still next to each other.
    trashed_after = models.BigIntegerField(null=True, blank=True)
    trashed_before = models.BigIntegerField(null=True, blank=True)
    restored_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        help_text="Who last brought it back from the trash")
    # Deleted forever: its files and comments are gone; the row and its takes' rows stay, so what was
    # spent on them still counts (spend pages, monthly budgets) under its title.
    purged_at = models.DateTimeField(null=True, blank=True)

    objects = BoardSceneManager()
    all_objects = SceneQuerySet.as_manager()

    class Meta:
        ordering = ["position", "pk"]
        # Managers: `objects` (the board) is the default, so every related manager and lookup leaves the
        # trash out; the base manager (forward relations such as a take's `.scene`) still reaches it.
        default_manager_name = "objects"

    def __str__(self):
        return f"{self.number}. {self.title}"

    @property
    def number(self) -> int:
        return self.position + 1

    @property
    def in_trash(self) -> bool:
        return self.trashed_at is not None and self.purged_at is None

    @property
    def approval_is_stale(self) -> bool:
        return bool(self.approved_take_id and self.approval_stale_fields)

    @property
    def approval_stale_words(self) -> str:
        """ "prompt and duration": what was edited since the approval, as the notice says it."""
        names = [STALE_FIELD_WORDS.get(f, f) for f in self.approval_stale_fields]
        return f"{', '.join(names[:-1])} and {names[-1]}" if len(names) > 1 else "".join(names)

    @property
    def target_value(self) -> str:
        """The chosen target as the render form names it ("connection:model"), or ""."""
        return f"{self.target_connection_id}:{self.target_model}" if self.target_connection_id else ""

    def clean(self):
        # A prompt left empty is allowed only beside dialogue (services check that); whitespace never is.
        if self.prompt and not self.prompt.strip():
            raise ValidationError({"prompt": _("Describe what happens in the scene.")})


MAX_SPEAKER = 80  # as a character's name
MAX_PARENTHETICAL = 100
MAX_LINE = 1000  # a long speech is several lines; Runway takes 1,000 characters for a whole prompt


class DialogueLine(models.Model):
    """One line of a scene's dialogue, in order: who speaks, an optional parenthetical, the words.

    The speaker is a character of the team's library (which casts them, under their consent) or a
    plain name. A take sends the scene's prompt with its lines woven in where the script put them
    (`after_prompt_lines`), as "NAME: (parenthetical) words" (projects/storyboard/dialogue/text.py).
    One row per line, so a line can later carry its own voice, recording and timing.
    """

    scene = models.ForeignKey(Scene, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField()
    character = models.ForeignKey("projects.Character", on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="lines", help_text="The speaker, when a character of the library")
    # The name as written (a character's name when it was chosen): kept when the character leaves.
    speaker = models.CharField(max_length=MAX_SPEAKER)
    parenthetical = models.CharField(max_length=MAX_PARENTHETICAL, blank=True,
                                     help_text="How it is said, without the brackets: sleepy, whispering")
    text = models.CharField(max_length=MAX_LINE)
    # Where it is spoken: after this many lines of the scene's prompt (its action). Empty: after all of it.
    after_prompt_lines = models.PositiveIntegerField(null=True, blank=True)
    # Optimistic locking, as the scene's own: an edit based on an older version merges or asks.
    version = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "pk"]
        indexes = [models.Index(fields=["scene", "position"])]

    def __str__(self):
        return f"{self.label}: {self.text}"

    @property
    def label(self) -> str:
        """The speaker as a prompt names them: "@Anna" for a character (the mention that casts them),
        else the name as written ("ANNA")."""
        return f"@{self.character.name}" if self.character is not None else self.speaker

    @property
    def speaker_name(self) -> str:
        return self.character.name if self.character is not None else self.speaker
