"""The mix, read from the board: each scene's lines as cues, the board's dialogue track and its sound
bed (ducked under the lines) for any stretch of time. The previz speaks a scene with `scene_cues`;
Play all and the exports mix a range of the board with `range_stems`.

A line sounds as its recording when it has one that is ready and its person's consent covers it,
else as the engine speaks it. Speech not yet made is made here when `speak` (a worker's call);
otherwise such a line is left silent (a page never waits for the engine).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from generation.sound import mixing, speech
from generation.sound.audio import SAMPLE_RATE, read_wav
from projects.models import DialogueLine, Project, Scene, SoundBed, SoundStatus
from projects.storyboard.sound import bed as beds
from projects.storyboard.sound import voices
from projects.storyboard.sound.recordings import recording_withheld


@dataclass(frozen=True)
class Stems:
    """A stretch of the board's sound, [start, end) seconds of the board: dialogue, and the bed ducked
    under it, each as mono float32 at 48 kHz; `cues` are the lines in it, timed from `start`."""

    start: float
    end: float
    dialogue: np.ndarray
    bed: np.ndarray
    cues: list[mixing.Cue]

    @property
    def mixed(self) -> np.ndarray:
        return mixing.mix(self.dialogue, self.bed)

    def with_takes(self, takes_audio: np.ndarray | None, *, project: Project) -> np.ndarray:
        """The mix with the takes' own sound (native-audio models; mono 48 kHz over the same stretch)
        at the project's level for it, under the voice-over and the bed."""
        if takes_audio is None or not len(takes_audio):
            return self.mixed
        return mixing.mix(self.dialogue, self.bed, mixing.level(takes_audio, project.take_audio_level_db))


def line_sound(line: DialogueLine, *, project: Project, speaker_voices=None, speak: bool = False):
    """The line's samples (a usable recording, else the engine's speech), or None when not made yet."""
    recording = getattr(line, "recording", None)  # a missing reverse one-to-one raises an AttributeError
    if (recording is not None and recording.status == SoundStatus.READY and recording.audio
            and not recording_withheld(recording, project=project)):
        with recording.audio.open("rb") as fh:
            return read_wav(fh)
    request = voices.line_speech(line, project=project, voices=speaker_voices)
    clips = voices.speech_clips_make([request]) if speak else voices.clips_for([request])
    clip = clips.get(request.key)
    return voices.clip_samples(clip) if clip is not None else None


def scene_cues(scene: Scene, *, speak: bool = False) -> list[mixing.Cue]:
    """The scene's lines one after another from its start, the project's pause before, between and
    after them (a line not spoken yet keeps its estimated place, silent)."""
    project = scene.project
    lines = list(DialogueLine.objects.filter(scene=scene).select_related("character", "recording__character"))
    speaker_voices = voices.speaker_voices(project)
    sounds = [line_sound(line, project=project, speaker_voices=speaker_voices, speak=speak) for line in lines]
    lengths = [len(s) / SAMPLE_RATE if s is not None else max(1, len(line.text.split())) / 2.5
               for line, s in zip(lines, sounds)]
    starts = mixing.line_starts(lengths, pause=float(project.dialogue_pause))
    return [mixing.Cue(start=start, samples=s if s is not None else np.zeros(0, np.float32), text=line.text,
                       speaker=line.speaker_name)
            for line, s, start in zip(lines, sounds, starts)]


def board_layout(project: Project) -> list[tuple[Scene, float]]:
    """Each scene with the second of the board it starts at (scenes back to back, in order)."""
    at, layout = 0.0, []
    for scene in Scene.objects.filter(project=project).select_related("project").order_by("position", "pk"):
        layout.append((scene, at))
        at += scene.duration
    return layout


def range_stems(project: Project, *, start: float, end: float, speak: bool = False) -> Stems:
    """The board's dialogue and bed over [start, end): every scene's lines where the scene plays (cut at
    its end), the bed from its start time at its level, ducked under the lines."""
    cues = []
    for scene, at in board_layout(project):
        if at >= end or at + scene.duration <= start:
            continue
        for cue in scene_cues(scene, speak=speak):
            cut = cue.samples[:max(0, int(round((scene.duration - cue.start) * SAMPLE_RATE)))]
            cues.append(mixing.Cue(start=at + cue.start - start, samples=cut, text=cue.text, speaker=cue.speaker))
    dialogue = mixing.dialogue_track(cues, end - start)
    return Stems(start=start, end=end, dialogue=dialogue, bed=bed_under(project, dialogue, start=start, end=end),
                 cues=[c for c in cues if len(c.samples) and c.end > 0])


def bed_under(project: Project, dialogue: np.ndarray, *, start: float, end: float) -> np.ndarray:
    """The project's bed over [start, end) of the board, at its level, ducked under `dialogue`."""
    bed = SoundBed.objects.filter(project=project).first()
    samples = beds.bed_samples(bed)
    if bed is None or samples is None:
        return np.zeros(len(dialogue), np.float32)
    segment = mixing.bed_segment(samples, bed_start=bed.start_at, level_db=bed.level_db, t0=start, t1=end)
    return mixing.duck(segment, dialogue, depth_db=bed.duck_db)


def scene_start(scene: Scene) -> float:
    return next(at for s, at in board_layout(scene.project) if s.pk == scene.pk)


def previz_sound_recipe(scene: Scene) -> dict:
    """What the local previz needs to speak the scene, as the scene is now (the previz job asks when it
    runs): each line's words, its voice or its recording when that may be heard, the pause, and the
    stretch of the bed under the scene (from the scene's place on the board)."""
    project = scene.project
    lines = list(DialogueLine.objects.filter(scene=scene).select_related("character", "recording__character"))
    speaker_voices = voices.speaker_voices(project)
    entries = []
    for line in lines:
        request = voices.line_speech(line, project=project, voices=speaker_voices)
        entry = {"speaker": line.speaker_name, "text": line.text, "voice": request.voice, "rate": request.rate,
                 "pitch": request.pitch}
        recording = getattr(line, "recording", None)  # a missing reverse one-to-one raises an AttributeError
        if (recording is not None and recording.status == SoundStatus.READY and recording.audio
                and not recording_withheld(recording, project=project)):
            entry["recording"] = recording.audio.name
        entries.append(entry)
    sound = {"lines": entries, "pause": float(project.dialogue_pause)}
    bed = SoundBed.objects.filter(project=project, status=SoundStatus.READY).first()
    if bed is not None and bed.audio:
        sound["bed"] = {"audio": bed.audio.name, "from": scene_start(scene) - bed.start_at,
                        "level_db": bed.level_db, "duck_db": bed.duck_db}
    return sound


def previz_sound(sound: dict, *, seconds: float, storage) -> tuple[np.ndarray, list[mixing.Cue]]:
    """The previz's soundtrack from its recipe (a worker's call: speech not cached yet is made now):
    the lines spoken one after another, the bed under them; and the cues, for its subtitles."""
    requests = [speech.SpeechRequest(text=e["text"], voice=e["voice"], rate=e["rate"], pitch=e["pitch"])
                for e in sound.get("lines", []) if not e.get("recording")]
    clips = voices.speech_clips_make(requests)
    samples = []
    for entry in sound.get("lines", []):
        if entry.get("recording"):
            try:
                with storage.open(entry["recording"], "rb") as fh:
                    samples.append(read_wav(fh))
                continue
            except (OSError, ValueError):  # gone since booking: the engine speaks it instead
                pass
        request = speech.SpeechRequest(text=entry["text"], voice=entry["voice"], rate=entry["rate"],
                                              pitch=entry["pitch"])
        clip = clips.get(request.key) or voices.speech_clips_make([request])[request.key]
        samples.append(voices.clip_samples(clip))
    starts = mixing.line_starts([len(s) / SAMPLE_RATE for s in samples], pause=float(sound.get("pause", 0.5)))
    cues = [mixing.Cue(start=start, samples=s, text=e["text"], speaker=e["speaker"])
            for e, s, start in zip(sound.get("lines", []), samples, starts) if start < seconds]
    dialogue = mixing.dialogue_track(cues, seconds)
    bed = sound.get("bed")
    under = np.zeros(len(dialogue), np.float32)
    if bed:
        try:
            with storage.open(bed["audio"], "rb") as fh:
                bed_all = read_wav(fh)
            segment = mixing.bed_segment(bed_all, bed_start=0.0, level_db=bed["level_db"], t0=bed["from"],
                                         t1=bed["from"] + seconds)
            under = mixing.duck(segment, dialogue, depth_db=bed["duck_db"])
        except (OSError, ValueError):
            pass  # a bed removed since booking: the lines alone
    return mixing.mix(dialogue, under), cues
