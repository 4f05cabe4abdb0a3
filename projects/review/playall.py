"""Play all: the whole board as one sequence, and its sound.

Each scene in the cut plays its approved take; a scene without one plays its newest finished take
(marked: not approved), and a scene with nothing finished shows a previz card (its title and lines)
for its length. Over it runs the voice-over (each scene's lines, as the previz speaks them) and the
sound bed, ducked under the lines, on the sequence's own timeline.

The mix is never made in a request: a page asks for it (`play_all_mix_request`) by the hash of its
recipe (what every line sounds as, the bed, the sequence's timing), a worker makes it once
(`play_all_mix_prepare`) and tells the open pages over the live channel. A change to a line, a voice,
a recording, the bed or the takes gives another recipe, hence another key and another mix.
"""

from __future__ import annotations

import hashlib
import json
import marshal
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from django.core.files import File
from django.core.files.storage import Storage
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Prefetch, QuerySet, Subquery

from generation.models import Render
from generation.sound import mixing, speech
from generation.sound.audio import SAMPLE_RATE, read_wav
from generation.storage.scratch import scratch_dir
from projects.characters.consent import voice_problem
from projects.live import ChangeKind, live_publish
from projects.models import (
    Character,
    DialogueLine,
    LineRecording,
    PlayAllMix,
    Project,
    Scene,
    SoundBed,
    SoundStatus,
    SpeakerVoice,
)
from projects.review import tasks as review_tasks
from projects.storyboard.sound import voices

APPROVED, NEWEST, CARD = "approved", "newest", "card"
WORDS_A_SECOND = 2.5  # a line not spoken yet is placed as if read at this pace (as mix.scene_cues does)


@dataclass
class PlayEntry:
    """One scene's stop in Play all: `take` is None for a previz card."""

    scene: Scene
    take: Render | None
    kind: str  # APPROVED, NEWEST or CARD
    start: float  # seconds into the sequence
    duration: float


class Timing(NamedTuple):
    """A stop as the sound reads it: its scene, the take it plays (None: a card), its place and length."""

    scene: int
    take: int | None
    start: float
    duration: float


def timings(entries: Sequence[PlayEntry | Timing]) -> list[Timing]:
    return [e if isinstance(e, Timing) else
            Timing(scene=e.scene.pk, take=e.take.pk if e.take else None, start=e.start, duration=e.duration)
            for e in entries]


def play_all_sequence(project: Project) -> tuple[list[PlayEntry], list[Scene]]:
    """The scenes in the cut in board order, each with what it plays; and the scenes the editor dropped
    from the cut. Scenes carry `review_status` (a scene not approved says why)."""
    # The review status is a read model's (projects.selectors), and the cut's read model reads this sequence:
    # imported here so either module can load first (selectors.review's CutEntry names this module's kinds).
    from projects.selectors import with_review_status

    # Lines prefetched: a card shows its scene's lines (one query for the board, not one per card).
    # Each scene's newest watchable take is found by the database: reading every take of a 1,000-scene board
    # (5,000 models) to keep one per scene cost about a third of the page's CPU; only the takes played are read.
    newest_watchable = (Render.objects.watchable().filter(scene=OuterRef("pk")).order_by("-number", "-pk")
                        .values("pk")[:1])
    scenes = with_review_status(project.scenes.select_related("approved_take", "approved_by").prefetch_related(
        Prefetch("lines", queryset=DialogueLine.objects.select_related("character")))
        .annotate(newest_watchable_id=Subquery(newest_watchable)))
    newest_id: dict[int, int | None] = {
        scene.pk: scene.newest_watchable_id for scene in scenes}  # type: ignore[attr-defined]  # the annotation
    newest = Render.objects.in_bulk([
        pk for scene in scenes
        if scene.in_cut and (pk := newest_id[scene.pk])
        and (scene.approved_take is None or not scene.approved_take.is_watchable)])
    take: Render | None
    entries, dropped, at = [], [], 0.0
    for scene in scenes:
        if not scene.in_cut:
            dropped.append(scene)  # the editor dropped it: on the board, not in what Play all plays
            continue
        take, kind = scene.approved_take, APPROVED
        if take is None or not take.is_watchable:
            take = newest.get(newest_id[scene.pk] or 0)
            kind = NEWEST if take is not None else CARD
        duration = (take.duration_seconds if take is not None else None) or float(scene.duration)
        entries.append(PlayEntry(scene=scene, take=take, kind=kind, start=at, duration=duration))
        at += duration
    return entries, dropped


# --- the recipe: what the mix is made of, and its key ---------------------------------------------


class RecipeInputs(NamedTuple):
    """Everything Play all's recipe is made of, as read from the database: the recipe is a function of these alone
    (`recipe_from` reads nothing else), so their hash (`inputs_digest`) names the mix as surely as the recipe's
    own key does. Plain tuples of numbers, words and None: hashed as they are, in one piece."""

    stops: tuple[tuple[int, int | None, float, float], ...]  # a Timing's scene, take, start and length
    lines: tuple[tuple[int, int, str, str, int | None], ...]  # the stops' scenes' lines in order: pk, scene,
    # speaker as written, words, character
    characters: tuple[tuple[int, str, str, int, int], ...]  # the lines' characters: pk, name, voice, rate, pitch
    recordings: tuple[tuple[int, str, float | None, int | None], ...]  # the recordings that may be heard now
    # (consent is read at each request): line, audio, length, whose voice
    speaker_voices: tuple[tuple[str, str, int, int], ...]  # a plain name (casefolded), its voice, rate, pitch
    language: str
    pause: float
    bed: tuple[str, float, float, float] | None  # the ready bed's audio, start, level and duck


# Bump when `recipe_from` (or the speech keys it writes) gives another recipe for the same inputs: a mix found by
# its inputs' hash must be the one the recipe's key names, and the code that turns one into the other is not in it.
_INPUTS_VERSION = 1


def recipe_inputs(project: Project, entries: Sequence[PlayEntry | Timing]) -> RecipeInputs:
    """What the recipe of `entries` reads, in a few queries for the whole board. The lines are read as rows of five
    columns; their characters and recordings apart (a board has a handful of characters and few recordings: joined
    to 3,000 lines they were half the lines' query)."""
    stops_at = timings(entries)
    scenes = {e.scene for e in stops_at}
    # The whole board's lines by project (1,000 scene ids bound as parameters cost more than the few lines of
    # scenes out of the cut or in the trash, read and left); a stop's own by its scene.
    whole = len(scenes) > 20
    lines = (DialogueLine.objects.filter(scene__project=project) if whole else
             DialogueLine.objects.filter(scene__in=scenes))
    rows = tuple(row for row in lines.order_by("scene_id", "position", "pk").values_list(
        "pk", "scene_id", "speaker", "text", "character_id") if row[1] in scenes)
    characters = tuple(Character.objects.filter(pk__in={row[4] for row in rows if row[4] is not None}).order_by(
        "pk").values_list("pk", "name", "voice", "voice_rate", "voice_pitch"))
    recorded = (LineRecording.objects.filter(line__scene__project=project) if whole else
                LineRecording.objects.filter(line__scene__in=scenes))
    bed = SoundBed.objects.filter(project=project, status=SoundStatus.READY).first()
    return RecipeInputs(
        stops=tuple((e.scene, e.take, e.start, e.duration) for e in stops_at),
        lines=rows,
        characters=characters,
        recordings=_recordings_heard(project, recorded, lines={row[0] for row in rows}),
        speaker_voices=tuple(sorted((name, v.voice, v.rate, v.pitch)
                                    for name, v in voices.speaker_voices(project).items())),
        language=project.voice_language,
        pause=float(project.dialogue_pause),
        bed=(str(bed.audio.name), float(bed.start_at), float(bed.level_db), float(bed.duck_db))
        if bed is not None and bed.audio else None)


def _recordings_heard(project: Project, recorded: QuerySet[LineRecording], *, lines: set[int]
                      ) -> tuple[tuple[int, str, float | None, int | None], ...]:
    """The recordings of `lines` that may be heard: ready, with their audio, and not withheld (a person's consent
    that no longer covers their voice). Each person's consent is read once, with the grants prefetched as
    `recording_withheld` reads them one by one."""
    ready = [row for row in recorded.filter(status=SoundStatus.READY).exclude(audio="").order_by("line_id")
             .values_list("line_id", "audio", "seconds", "character_id") if row[0] in lines]
    people = {row[3] for row in ready if row[3] is not None}
    withheld = {character.pk for character in
                Character.objects.filter(pk__in=people).prefetch_related("grants__projects")
                if voice_problem(character, project=project)} if people else set()
    return tuple(row for row in ready if row[3] not in withheld)


def inputs_digest(inputs: RecipeInputs) -> str:
    """The hash of everything the recipe is made of. marshal (format 2: no back-references, so equal values give
    equal bytes) writes 3,000 lines' rows in well under a millisecond, where the recipe and its key take ~25 ms."""
    return hashlib.sha256(marshal.dumps((_INPUTS_VERSION, tuple(inputs)), 2)).hexdigest()


def sound_recipe(project: Project, entries: Sequence[PlayEntry | Timing]) -> dict[str, Any]:
    """Everything the mix depends on, as plain data: each stop's place and length, what each of its
    lines sounds as (a recording that may be heard, else the engine's words in the speaker's voice),
    the pause, the bed. A few queries for the whole board."""
    return recipe_from(recipe_inputs(project, entries))


def recipe_from(inputs: RecipeInputs) -> dict[str, Any]:
    """The recipe of these inputs, reading nothing else (no query, no project: tests/projects/test_play_all_key.py).
    Each line's speech is chosen by the functions `voices.line_speech` uses, so the key is the one the models give
    (tests/projects/test_play_all_recipe.py)."""
    lines_by_scene: dict[int, list[tuple[int, int, str, str, int | None]]] = {}
    for row in inputs.lines:
        lines_by_scene.setdefault(row[1], []).append(row)
    characters = {row[0]: row for row in inputs.characters}
    recordings = {row[0]: row for row in inputs.recordings}
    speaker_voices = {name: SpeakerVoice(name=name, voice=voice, rate=rate, pitch=pitch)
                      for name, voice, rate, pitch in inputs.speaker_voices}
    language = inputs.language
    stops = []
    for scene, take, start, duration in inputs.stops:
        said = []
        for pk, _scene, written, text, character in lines_by_scene.get(scene, []):
            if character is not None:
                _pk, name, voice, rate, pitch = characters[character]
                speaker = name or ""
                request = voices.character_speech(text=text, name=speaker, voice=voice or "", rate=rate or 0,
                                                  pitch=pitch or 0, language=language)
            else:
                speaker = written
                request = voices.speaker_speech(text=text, speaker=written, language=language,
                                                voices=speaker_voices)
            item: dict[str, Any] = {"line": pk, "speaker": speaker, "text": text, "voice": request.voice,
                                    "rate": request.rate, "pitch": request.pitch, "speech": request.key}
            if pk in recordings:
                _line, item["recording"], item["seconds"], item["character"] = recordings[pk]  # "character": whose
                # voice, when a person's (their consent)
            said.append(item)
        stops.append({"scene": scene, "take": take,
                      "start": round(start, 3), "duration": round(duration, 3), "lines": said})
    recipe: dict[str, Any] = {"stops": stops, "pause": inputs.pause}
    if inputs.bed is not None:
        audio, start_at, level_db, duck_db = inputs.bed
        recipe["bed"] = {"audio": audio, "start_at": start_at, "level_db": level_db, "duck_db": duck_db}
    return recipe


def recipe_key(recipe: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()


def recipe_seconds(recipe: dict[str, Any]) -> float:
    return float(sum(stop["duration"] for stop in recipe["stops"]))


def _requests(recipe: dict[str, Any]) -> list[speech.SpeechRequest]:
    return [speech.SpeechRequest(text=item["text"], voice=item["voice"], rate=item["rate"], pitch=item["pitch"])
            for stop in recipe["stops"] for item in stop["lines"] if not item.get("recording")]


def _layout(recipe: dict[str, Any], lengths: dict[tuple[int, int], float]) -> list[tuple[dict[str, Any], float, float]]:
    """(line, start, end) on the sequence's timeline: each stop's lines one after another from its
    start with the pause before, between and after them, cut at the stop's end."""
    placed = []
    for stop in recipe["stops"]:
        durations = [lengths[(stop["scene"], i)] for i in range(len(stop["lines"]))]
        for item, start, seconds in zip(stop["lines"], mixing.line_starts(durations, pause=recipe["pause"]),
                                        durations):
            if start >= stop["duration"]:
                continue
            end = min(start + seconds, stop["duration"])
            placed.append((item, stop["start"] + start, stop["start"] + end))
    return placed


def recipe_cues(recipe: dict[str, Any]) -> list[dict[str, Any]]:
    """The lines' times on the sequence from what is known now (speech already made, recordings' lengths;
    a line not spoken yet at a reading pace): the captions while the mix is being made."""
    clips = voices.clips_for(_requests(recipe))
    lengths = {}
    for stop in recipe["stops"]:
        for i, item in enumerate(stop["lines"]):
            clip = clips.get(item["speech"])
            lengths[(stop["scene"], i)] = (item.get("seconds") or (clip.seconds if clip else None)
                                           or max(1, len(item["text"].split())) / WORDS_A_SECOND)
    return [{"start": round(start, 3), "end": round(end, 3), "speaker": item["speaker"], "text": item["text"]}
            for item, start, end in _layout(recipe, lengths)]


def stop_cues(project: Project, scene_pk: int) -> list[dict[str, Any]]:
    """One stop's captions before its mix is made: its lines where they will fall, in seconds from the stop's
    start (the player cuts them at the stop's end, as the mix does). Asked for as the stop is about to play."""
    return recipe_cues(sound_recipe(project, [Timing(scene=scene_pk, take=None, start=0.0, duration=float("inf"))]))


# --- the mix itself (a worker's) --------------------------------------------------------------------


@dataclass(frozen=True)
class SequenceSound:
    """The sequence's dialogue track and its bed (ducked under it), mono float32 at 48 kHz, and the
    lines as placed in it (the captions)."""

    dialogue: np.ndarray
    bed: np.ndarray
    cues: list[dict[str, Any]]

    @property
    def mixed(self) -> np.ndarray:
        return mixing.mix(self.dialogue, self.bed)


def recipe_sound(recipe: dict[str, Any], *, storage: Storage) -> SequenceSound:
    """The sound the recipe describes. Speech not made yet is made now: a worker's call, never a page's."""
    clips = voices.speech_clips_make(_requests(recipe))
    samples, lengths = {}, {}
    for stop in recipe["stops"]:
        for i, item in enumerate(stop["lines"]):
            sound = None
            if item.get("recording"):
                try:
                    with storage.open(item["recording"], "rb") as fh:
                        sound = read_wav(fh)
                except (OSError, ValueError):  # gone since: the engine speaks the line instead
                    sound = None
            if sound is None:
                sound = voices.clip_samples(clips[item["speech"]])
            samples[(stop["scene"], i)] = sound
            lengths[(stop["scene"], i)] = len(sound) / SAMPLE_RATE
    seconds = recipe_seconds(recipe)
    cues, placed = [], []
    index = {id(item): key for stop in recipe["stops"] for key, item in
             (((stop["scene"], i), item) for i, item in enumerate(stop["lines"]))}
    for item, start, end in _layout(recipe, lengths):
        sound = samples[index[id(item)]][:int(round((end - start) * SAMPLE_RATE))]
        placed.append(mixing.Cue(start=start, samples=sound, text=item["text"], speaker=item["speaker"]))
        cues.append({"start": round(start, 3), "end": round(end, 3), "speaker": item["speaker"],
                     "text": item["text"]})
    dialogue = mixing.dialogue_track(placed, seconds)
    bed = np.zeros(len(dialogue), np.float32)
    if recipe.get("bed"):
        spec = recipe["bed"]
        try:
            with storage.open(spec["audio"], "rb") as fh:
                bed_all = read_wav(fh)
            segment = mixing.bed_segment(bed_all, bed_start=spec["start_at"], level_db=spec["level_db"],
                                         t0=0.0, t1=seconds)
            bed = mixing.duck(segment, dialogue, depth_db=spec["duck_db"])
        except (OSError, ValueError):
            pass  # the bed was replaced since: the lines alone
    return SequenceSound(dialogue=dialogue, bed=bed, cues=cues)


def play_all_mix_request(*, project: Project, entries: Sequence[PlayEntry | Timing]) -> tuple[PlayAllMix, RecipeInputs]:
    """Play all's mix for `entries` (the board as it is now): the one made already, else a row the
    worker fills (enqueued once per key, after commit). Returns it with what its recipe is made of.

    A page finds its mix by the hash of the recipe's inputs when a page has read the same before (every viewer of
    a board that has not changed): building the recipe writes a speech key per line and hashes ~600 KB, ~25 ms
    at 1,000 scenes. Inputs read for the first time build it, and the mix its key names learns their hash. Both
    hashes are of what was just read: a board changed since reads other inputs and never finds an older mix."""
    inputs = recipe_inputs(project, entries)
    digest = inputs_digest(inputs)
    mixes = PlayAllMix.objects.filter(project=project).defer("cues")  # the captions are kept as text
    found = mixes.filter(inputs=digest).first()
    if found is not None:
        return found, inputs
    key = recipe_key(recipe_from(inputs))
    found = mixes.filter(key=key).first()
    if found is not None:
        PlayAllMix.objects.filter(pk=found.pk).update(inputs=digest)
        return found, inputs
    try:
        with transaction.atomic():
            found = PlayAllMix.objects.create(project=project, key=key, inputs=digest)
    except IntegrityError:  # another page asked for the same mix at the same moment: one worker makes it
        return mixes.get(key=key), inputs
    review_tasks.play_all_mix_prepare.delay_on_commit(found.pk)
    return found, inputs


def play_all_captions(mix: PlayAllMix, inputs: RecipeInputs) -> str:
    """The captions as WebVTT: the lines as mixed once the mix is made, else where they will fall."""
    if mix.status != SoundStatus.READY:
        return captions_vtt(recipe_cues(recipe_from(inputs)))
    return mix.captions or captions_vtt(mix.cues)  # a mix made before its captions were kept: from its cues


def play_all_mix_prepare(mix_id: int) -> PlayAllMix | None:
    """The worker's side: make the mix of the board as it is now, if it still has this row's key (a board
    changed since gives another key, whose own row is asked for by the next page)."""
    mix = PlayAllMix.objects.select_related("project").filter(pk=mix_id, status=SoundStatus.PROCESSING).first()
    if mix is None:
        return None  # made already
    project = mix.project
    entries, _dropped = play_all_sequence(project)
    recipe = sound_recipe(project, entries)
    if recipe_key(recipe) != mix.key:
        PlayAllMix.objects.filter(pk=mix.pk).delete()  # stale: nobody asks for that board any more
        return None
    sound = recipe_sound(recipe, storage=mix.audio.storage)
    with scratch_dir("studio-playall-") as tmp:
        path = Path(tmp) / "mix.m4a"
        mixing.encode_aac(sound.mixed if len(sound.dialogue) else np.zeros(SAMPLE_RATE, np.float32), path)
        with path.open("rb") as fh:
            mix.audio.save("mix.m4a", File(fh), save=False)
    updated = PlayAllMix.objects.filter(pk=mix.pk, status=SoundStatus.PROCESSING).update(
        audio=mix.audio.name, seconds=recipe_seconds(recipe), cues=sound.cues, captions=captions_vtt(sound.cues),
        status=SoundStatus.READY)
    if not updated:
        return None
    # Mixes asked for before this one are of a board that is no more.
    for old in PlayAllMix.objects.filter(project=project, created_at__lt=mix.created_at):
        if old.audio:
            old.audio.delete(save=False)
        old.delete()
    live_publish(kind=ChangeKind.PLAY_ALL_SOUND_READY, project=project, object_id=mix.pk)
    mix.refresh_from_db()
    return mix


# --- captions ---------------------------------------------------------------------------------------


def _vtt_time(seconds: float) -> str:
    ms = int(round(seconds * 1000))
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def _srt_time(seconds: float) -> str:
    return _vtt_time(seconds).replace(".", ",")


def _caption_text(cue: dict[str, Any]) -> str:
    # A line break or an arrow inside a line would end or fake a cue: captions keep one line of words.
    words = " ".join(f"{cue['speaker']}: {cue['text']}".split()).replace("-->", "→")
    return words


def captions_vtt(cues: list[dict[str, Any]]) -> str:
    """WebVTT: every line with its speaker, at its time in the mix."""
    blocks = ["WEBVTT", ""]
    for i, cue in enumerate(cues, 1):
        text = _caption_text(cue).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        blocks += [str(i), f"{_vtt_time(cue['start'])} --> {_vtt_time(cue['end'])}", text, ""]
    return "\n".join(blocks)


def captions_srt(cues: list[dict[str, Any]]) -> str:
    """SubRip: the same cues, as editors' tools read them."""
    blocks = []
    for i, cue in enumerate(cues, 1):
        blocks += [str(i), f"{_srt_time(cue['start'])} --> {_srt_time(cue['end'])}", _caption_text(cue), ""]
    return "\n".join(blocks)
