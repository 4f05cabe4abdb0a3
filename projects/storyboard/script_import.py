"""Script in: a screenplay becomes a preview, and a confirmed preview becomes scenes.

Nothing is saved to the storyboard until the user confirms; the preview lives in a
ScriptImport row keyed by an unguessable token, so what is imported is what was parsed,
never what a form sends back. Each scene's action becomes its prompt and its dialogue its
lines. Casting follows the studio's rule (a ticked character speaks their lines as the
library's character, which casts them) and its consent: a character whose consent is revoked,
expired or not given for this project is offered but cannot be ticked.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from generation.words import said
from projects.activity.feed import record
from projects.characters.consent import consent_problem
from projects.models import (
    MAX_SCENE_SECONDS,
    MIN_SCENE_SECONDS,
    SCRIPT_IMPORT_LIFETIME,
    ActivityKind,
    Character,
    DialogueLine,
    Project,
    ProjectField,
    RevisionKind,
    Scene,
    ScriptImport,
)
from projects.storyboard import fields, services, trash
from projects.storyboard.revisions import board_revision
from projects.storyboard.script import (
    MAX_PROMPT,
    MAX_SCRIPT_BYTES,
    MAX_TITLE,
    ScriptError,
    parse_script,
)

MODES = ("append", "replace")


@dataclass
class Casting:
    speaker: str  # as the script writes it ("ANNA")
    character: Character | None = None
    problem: str | None = None  # why the matched character cannot be cast now


@dataclass
class ScriptPreview:
    script_import: ScriptImport
    scenes: list[dict]
    casting: list[Casting] = field(default_factory=list)
    existing_scenes: int = 0
    existing_takes: int = 0
    ticked: set = field(default_factory=set)  # as the user last posted them (the page shown again)
    mode: str = "append"

    @property
    def existing_takes_words(self) -> str:
        """"3 takes", "1 take": said inside the confirmation, whose own plural follows the scenes."""
        return ngettext("%(count)d take", "%(count)d takes", self.existing_takes) % {"count": self.existing_takes}

    def as_posted(self, post) -> ScriptPreview:
        """The preview with what the user chose (durations, ticks, mode), after a refusal."""
        durations = post.getlist("duration")
        if len(durations) == len(self.scenes):
            self.scenes = [{**s, "duration": d} for s, d in zip(self.scenes, durations)]
        self.ticked, self.mode = set(post.getlist("cast")), post.get("mode", "append")
        return self

    @property
    def unmatched(self) -> list[str]:
        return [c.speaker for c in self.casting if c.character is None]

    @property
    def castable(self) -> list[Casting]:
        return [c for c in self.casting if c.character is not None]


def script_import_create(*, project: Project, user, upload, split: str = "heading") -> ScriptImport:
    """Parse an uploaded screenplay into a stored preview (nothing on the storyboard changes)."""
    if upload is None:
        raise ValidationError(gettext("Choose a Fountain (.fountain) or Final Draft (.fdx) file to import."))
    if upload.size > MAX_SCRIPT_BYTES:
        raise ValidationError(gettext("The script is %(size)d KB; the limit is %(most)d KB.")
                              % {"size": upload.size // 1024, "most": MAX_SCRIPT_BYTES // 1024})
    try:
        kind, scenes = parse_script(upload.read(MAX_SCRIPT_BYTES + 1), split=split)
    except ScriptError as exc:
        raise ValidationError(str(exc))
    # One pending preview per person and project: a new upload replaces the last one.
    ScriptImport.objects.filter(project=project, created_by=user).delete()
    ScriptImport.objects.filter(created_at__lt=timezone.now() - SCRIPT_IMPORT_LIFETIME).delete()
    return ScriptImport.objects.create(token=secrets.token_urlsafe(32), project=project, created_by=user,
                                       kind=kind, split=split, scenes=[s.as_dict() for s in scenes])


def script_preview_for(*, script_import: ScriptImport) -> ScriptPreview:
    """The preview page's read model: scenes, who speaks and whom the library knows."""
    project = script_import.project
    library = {c.name.casefold(): c for c in Character.objects.filter(team=project.team_id)
               .prefetch_related("grants__projects")}
    speakers: dict[str, str] = {}
    for scene in script_import.scenes:
        for name in scene["speakers"]:
            speakers.setdefault(name.casefold(), name)
    casting = []
    for key, speaker in speakers.items():
        character = library.get(key)
        problem = consent_problem(character, project=project, provider_kind=None) if character else None
        casting.append(Casting(speaker=speaker, character=character, problem=problem))
    existing = Scene.objects.filter(project=project).aggregate(scenes=Count("pk", distinct=True),
                                                               takes=Count("renders", distinct=True))
    return ScriptPreview(script_import=script_import, scenes=script_import.scenes, casting=casting,
                         existing_scenes=existing["scenes"], existing_takes=existing["takes"])


def _durations(values: list, count: int) -> list[int]:
    if len(values) != count:
        raise ValidationError(gettext("This preview is out of date; upload the script again."))
    durations = []
    for number, value in enumerate(values, start=1):
        try:
            seconds = int(str(value).strip())
        except ValueError:
            seconds = None
        if seconds is None or not MIN_SCENE_SECONDS <= seconds <= MAX_SCENE_SECONDS:
            raise ValidationError(gettext("Scene %(number)d: the duration must be a whole number of seconds from "
                                          "%(least)d to %(most)d.")
                                  % {"number": number, "least": MIN_SCENE_SECONDS, "most": MAX_SCENE_SECONDS})
        durations.append(seconds)
    return durations


def _lines(data: dict, cast: dict[str, Character]) -> list[DialogueLine]:
    """A previewed scene's dialogue as lines: a ticked character speaks theirs (which casts them)."""
    lines = []
    for spoken in data["dialogue"]:
        character = cast.get(spoken["speaker"].casefold())
        lines.append(DialogueLine(character=character, speaker=character.name if character else spoken["speaker"],
                                  parenthetical=spoken["parenthetical"], text=spoken["text"],
                                  after_prompt_lines=spoken["after_prompt_lines"]))
    return lines


@dataclass
class Imported:
    scenes: list[Scene]
    replaced: trash.Trashed | None = None  # the storyboard's scenes the import moved to the trash (its Undo)


def script_import_confirm(*, script_import: ScriptImport, user, mode: str, durations: list, cast_ids,
                          takes_to_delete: int = 0) -> Imported:
    """Create the previewed scenes (appended, or replacing the storyboard's), casting only the ticked.

    `takes_to_delete`: how many takes the user agreed to move to the trash with the replaced scenes (the
    number the confirmation named); more than that, e.g. a teammate rendered meanwhile, is refused."""
    if script_import.expired:
        raise ValidationError(gettext("This preview has expired; upload the script again."))
    if mode not in MODES:
        raise ValidationError(gettext("Choose whether to add the scenes after the storyboard's or replace them."))
    if any("dialogue" not in data for data in script_import.scenes):  # previewed before lines were data
        raise ValidationError(gettext("This preview is out of date; upload the script again."))
    preview = script_preview_for(script_import=script_import)
    seconds = _durations(durations, len(preview.scenes))
    offered = {c.character.pk: (c, c.character) for c in preview.castable if c.character is not None}
    cast: dict[str, Character] = {}
    for pk in cast_ids:
        if pk not in offered:
            raise ValidationError(gettext("Cast only characters who speak in this script."))
        chosen, character = offered[pk]
        if chosen.problem:
            raise ValidationError(gettext("%(problem)s %(name)s cannot be cast.")
                                  % {"problem": chosen.problem, "name": character.name})
        cast[chosen.speaker.casefold()] = character
    project = script_import.project
    with transaction.atomic():
        # The row is the single-use ticket: a second click (or tab) finds it gone.
        if not ScriptImport.objects.filter(pk=script_import.pk).delete()[0]:
            raise ValidationError(gettext("This preview was already imported."))
        with board_revision(project=project, user=user, kind=RevisionKind.SCRIPT_IMPORT) as revision:
            replaced = _replace(project, user, takes_to_delete) if mode == "replace" else None
            scenes = [services.scene_create(project=project, user=user, title=data["title"][:MAX_TITLE],
                                            prompt=data["action"][:MAX_PROMPT], dialogue=_lines(data, cast),
                                            duration=duration, size=project.default_size)
                      for data, duration in zip(preview.scenes, seconds)]
            own_fields = list(ProjectField.objects.filter(project=project))
            for scene, data in zip(scenes, preview.scenes):  # Final Draft's scene properties, where names match
                if own_fields and data.get("properties"):
                    fields.scene_fields_from_properties(scene=scene, properties=data["properties"],
                                                        fields=own_fields)
            imported = said("count.scenes", count=len(scenes))
            text = (said("feed.script_imported_replacing", kind=script_import.kind, scenes=imported,
                         replaced=said("count.scenes", count=len(replaced.scenes))) if replaced
                    else said("feed.script_imported", kind=script_import.kind, scenes=imported))
            if cast:
                text = said("feed.with_cast", line=text, names=", ".join(c.name for c in cast.values()))
            revision.summary = text
        record(project=project, kind=ActivityKind.SCRIPT_IMPORTED, actor=user, text=text)
    return Imported(scenes=scenes, replaced=replaced)


def _replace(project: Project, user, takes_to_delete: int) -> trash.Trashed | None:
    """Move the storyboard's scenes to the trash, as a bulk delete does (their takes go with them; the
    import's Undo, or the Trash page, brings them back)."""
    ids = list(Scene.objects.filter(project=project).values_list("pk", flat=True))
    if not ids:
        return None
    takes = Scene.objects.filter(pk__in=ids).aggregate(n=Count("renders"))["n"]
    if takes > takes_to_delete:
        raise ValidationError(ngettext(
            "Replacing moves the scene on the storyboard and its takes (%(takes)d) to the trash: tick the "
            "confirmation to go ahead, or add the script's scenes after it.",
            "Replacing moves the %(scenes)d scenes on the storyboard and their takes (%(takes)d) to the trash: "
            "tick the confirmation to go ahead, or add the script's scenes after them.", len(ids))
            % {"scenes": len(ids), "takes": takes})
    # The import keeps one board revision of its own, replaced scenes and all.
    return trash.scene_bulk_trash(project=project, scene_ids=ids, user=user, revision=False)
