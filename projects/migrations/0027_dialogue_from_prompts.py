"""Dialogue the script import wrote into prompts ("ANNA: (sleepy) Morning.", "@Anna: Morning.") becomes lines.

A row of a prompt becomes a line only when it reads as the import wrote dialogue: a cast speaker,
"@" and a character's exact name in the scene's team, or a plain speaker in capitals that is not a
camera or sound note ("CAMERA: slow push-in" stays). Every other row stays in the prompt. A scene is
changed only if its prompt with the new lines woven back (as a take sends them) gives exactly its
old prompt, so what a take sends is byte for byte what it sent before. Reversed, each scene's
prompt becomes that text again and its lines go.

Self-contained on purpose: it must read the same way whatever the app's code becomes.
"""

import re

from django.db import migrations

LINE = re.compile(r"^(?P<cast>@?)(?P<name>[^\W\d_][\w .'\-]{0,79}?): (?P<text>[^\r\n]+)$")
PARENTHETICAL = re.compile(r"^\(([^()\r\n]*)\) (\S.*)$", re.S)
NOT_SPEAKERS = {"CAMERA", "SHOT", "CUT", "INT", "EXT", "SFX", "FX", "MUSIC", "NOTE", "NOTES", "TITLE",
                "SCENE", "ANGLE", "LENS", "LIGHTING", "MOOD", "SOUND", "VFX", "LATER", "DAY", "NIGHT"}
MAX_SPEAKER, MAX_PARENTHETICAL, MAX_LINE = 80, 100, 1000


def _separator(prompt):
    return "\r\n" if "\r\n" in prompt else "\n"


def _rows(prompt):
    return prompt.split(_separator(prompt)) if prompt else []


def _compose(prompt, lines):
    """lines: (label, parenthetical, text, after) in order, woven in as the app's dialogue text module does."""
    if not lines:
        return prompt
    rows, out, at = _rows(prompt), [], 0
    for label, parenthetical, text, after in lines:
        after = max(len(rows) if after is None else min(after, len(rows)), at)
        out += rows[at:after]
        out.append(f"{label}: ({parenthetical}) {text}" if parenthetical else f"{label}: {text}")
        at = after
    return _separator(prompt).join(out + rows[at:])


def _spoken(row, library):
    """(character id or None, speaker, parenthetical, text) for a row of dialogue, else None."""
    match = LINE.match(row)
    if not match:
        return None
    name, words = match["name"], match["text"]
    if match["cast"]:
        if name not in library or ". " in name:
            return None
        character = library[name]
    else:
        if name != name.upper() or name == name.lower() or name.strip().upper() in NOT_SPEAKERS:
            return None
        character = None
    parenthetical = ""
    leading = PARENTHETICAL.match(words)
    if leading and leading[1] and leading[1].strip() == leading[1]:
        parenthetical, words = leading[1], leading[2]
    if words != words.strip() or len(name) > MAX_SPEAKER or len(parenthetical) > MAX_PARENTHETICAL \
            or len(words) > MAX_LINE:
        return None  # not a line the panel could have written: it stays as it was typed
    return character, name, parenthetical, words


def lines_from_prompts(apps, schema_editor):
    Scene = apps.get_model("projects", "Scene")
    Character = apps.get_model("projects", "Character")
    DialogueLine = apps.get_model("projects", "DialogueLine")
    libraries = {}
    scenes = (Scene.objects.filter(prompt__contains=": ").select_related("project")
              .only("pk", "prompt", "project__team_id").order_by("pk"))
    for scene in scenes.iterator(chunk_size=500):
        team_id = scene.project.team_id
        if team_id not in libraries:
            libraries[team_id] = dict(Character.objects.filter(team_id=team_id).values_list("name", "pk"))
        library = libraries[team_id]
        names = {pk: name for name, pk in library.items()}
        kept, lines = [], []
        for row in _rows(scene.prompt):
            spoken = _spoken(row, library)
            if spoken is None:
                kept.append(row)
            else:
                lines.append((*spoken, len(kept)))
        if not lines:
            continue
        prompt = _separator(scene.prompt).join(kept)
        woven = [(f"@{names[c]}" if c else name, p, t, after) for c, name, p, t, after in lines]
        if (prompt and not prompt.strip()) or _compose(prompt, woven) != scene.prompt:
            continue  # it would not send the same bytes: the scene keeps its dialogue in its prompt
        DialogueLine.objects.bulk_create([
            DialogueLine(scene_id=scene.pk, position=position, character_id=character, speaker=name,
                         parenthetical=parenthetical, text=text, after_prompt_lines=after)
            for position, (character, name, parenthetical, text, after) in enumerate(lines)])
        Scene.objects.filter(pk=scene.pk).update(prompt=prompt)


def prompts_from_lines(apps, schema_editor):
    Scene = apps.get_model("projects", "Scene")
    DialogueLine = apps.get_model("projects", "DialogueLine")
    by_scene = {}
    for line in DialogueLine.objects.select_related("character").order_by("scene_id", "position", "pk"):
        label = f"@{line.character.name}" if line.character_id else line.speaker
        by_scene.setdefault(line.scene_id, []).append(
            (label, line.parenthetical, line.text, line.after_prompt_lines))
    for scene in Scene.objects.filter(pk__in=list(by_scene)).only("pk", "prompt"):
        Scene.objects.filter(pk=scene.pk).update(prompt=_compose(scene.prompt, by_scene[scene.pk]))
    DialogueLine.objects.all().delete()


class Migration(migrations.Migration):

    dependencies = [
        ("projects", "0026_dialogue_lines"),
    ]

    operations = [
        migrations.RunPython(lines_from_prompts, prompts_from_lines),
    ]
