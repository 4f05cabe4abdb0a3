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
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from django.core.files import File
from django.core.files.storage import Storage
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Prefetch, Subquery

from generation.models import Render
from generation.sound import mixing, speech
from generation.sound.audio import SAMPLE_RATE, read_wav
from generation.storage.scratch import scratch_dir
from projects.characters.consent import voice_problem
from projects.live import ChangeKind, live_publish
from projects.models import (
    Character,
    DialogueLine,
    PlayAllMix,
    Project,
    Scene,
    SoundBed,
    SoundStatus,
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


class _LineRow(NamedTuple):
    """A line as the recipe reads it: its words, who says it in which voice, and its recording if any."""

    pk: int
    scene: int
    speaker: str
    text: str
    character: int | None
    character_name: str | None
    character_voice: str | None
    character_rate: int | None
    character_pitch: int | None
    recording_status: str | None
    recording_audio: str | None
    recording_seconds: float | None
    recording_character: int | None


_LINE_COLUMNS = ("pk", "scene_id", "speaker", "text", "character_id", "character__name", "character__voice",
                 "character__voice_rate", "character__voice_pitch", "recording__status", "recording__audio",
                 "recording__seconds", "recording__character_id")


def sound_recipe(project: Project, entries: Sequence[PlayEntry | Timing]) -> dict[str, Any]:
    """Everything the mix depends on, as plain data: each stop's place and length, what each of its
    lines sounds as (a recording that may be heard, else the engine's words in the speaker's voice),
    the pause, the bed. A few queries for the whole board: a page computes it to find its mix.

    The lines are read as rows (their speakers' voices and recordings joined), not models: at 1,000 scenes
    the 15,000 models of 3,000 lines were half the sound's state. The speech is chosen by the functions
    `voices.line_speech` uses, so the key is the one the models give (tests/projects/test_play_all.py)."""
    stops_at = timings(entries)
    lines_by_scene: dict[int, list[_LineRow]] = {}
    scenes = {e.scene for e in stops_at}
    # The whole board's lines by project (1,000 scene ids bound as parameters cost more than the few lines of
    # scenes out of the cut or in the trash, read and left); a stop's own by its scene.
    lines = (DialogueLine.objects.filter(scene__project=project) if len(scenes) > 20 else
             DialogueLine.objects.filter(scene__in=scenes))
    for values in lines.order_by("scene_id", "position", "pk").values_list(*_LINE_COLUMNS):
        row = _LineRow(*values)
        if row.scene in scenes:
            lines_by_scene.setdefault(row.scene, []).append(row)
    speaker_voices = voices.speaker_voices(project)
    heard = _recordings_heard(project, [row for rows in lines_by_scene.values() for row in rows])
    language = project.voice_language
    stops = []
    for entry in stops_at:
        said = []
        for row in lines_by_scene.get(entry.scene, []):
            if row.character is not None:
                speaker = row.character_name or ""
                request = voices.character_speech(
                    text=row.text, name=speaker, voice=row.character_voice or "",
                    rate=row.character_rate or 0, pitch=row.character_pitch or 0, language=language)
            else:
                speaker = row.speaker
                request = voices.speaker_speech(text=row.text, speaker=speaker, language=language,
                                                voices=speaker_voices)
            item: dict[str, Any] = {"line": row.pk, "speaker": speaker, "text": row.text, "voice": request.voice,
                                    "rate": request.rate, "pitch": request.pitch, "speech": request.key}
            if row.pk in heard:
                item["recording"] = row.recording_audio
                item["seconds"] = row.recording_seconds
                item["character"] = row.recording_character  # whose voice, when a person's (their consent)
            said.append(item)
        stops.append({"scene": entry.scene, "take": entry.take,
                      "start": round(entry.start, 3), "duration": round(entry.duration, 3), "lines": said})
    recipe = {"stops": stops, "pause": float(project.dialogue_pause)}
    bed = SoundBed.objects.filter(project=project, status=SoundStatus.READY).first()
    if bed is not None and bed.audio:
        recipe["bed"] = {"audio": bed.audio.name, "start_at": bed.start_at, "level_db": bed.level_db,
                         "duck_db": bed.duck_db}
    return recipe


def _recordings_heard(project: Project, rows: Sequence[_LineRow]) -> set[int]:
    """The lines whose recording may be heard: ready, with its audio, and not withheld (a person's consent
    that no longer covers their voice). Each person's consent is read once, with the grants prefetched as
    `recording_withheld` reads them one by one."""
    ready = [row for row in rows if row.recording_status == SoundStatus.READY and row.recording_audio]
    people = {row.recording_character for row in ready if row.recording_character is not None}
    withheld = {character.pk for character in
                Character.objects.filter(pk__in=people).prefetch_related("grants__projects")
                if voice_problem(character, project=project)} if people else set()
    return {row.pk for row in ready if row.recording_character not in withheld}


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


def play_all_mix_request(*, project: Project, entries: Sequence[PlayEntry | Timing]) -> tuple[PlayAllMix, dict[str, Any]]:
    """Play all's mix for `entries` (the board as it is now): the one made already, else a row the
    worker fills (enqueued once per key, after commit). Returns it with its recipe."""
    recipe = sound_recipe(project, entries)
    key = recipe_key(recipe)
    found = PlayAllMix.objects.filter(project=project, key=key).first()
    if found is not None:
        return found, recipe
    try:
        with transaction.atomic():
            found = PlayAllMix.objects.create(project=project, key=key)
    except IntegrityError:  # another page asked for the same mix at the same moment: one worker makes it
        return PlayAllMix.objects.get(project=project, key=key), recipe
    review_tasks.play_all_mix_prepare.delay_on_commit(found.pk)
    return found, recipe


def play_all_cues(mix: PlayAllMix, recipe: dict[str, Any]) -> list[dict[str, Any]]:
    """The captions: the lines as mixed once the mix is made, else where they will fall."""
    return mix.cues if mix.status == SoundStatus.READY else recipe_cues(recipe)


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
        audio=mix.audio.name, seconds=recipe_seconds(recipe), cues=sound.cues, status=SoundStatus.READY)
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
