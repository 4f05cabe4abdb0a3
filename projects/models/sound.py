"""Sound on the board: voices, recordings of lines, the cached speech, and a project's sound bed.

A line is spoken by the offline engine (generation/sound/speech.py) in its speaker's voice — a
character's, or the voice a project gives a plain name — unless a recording replaces it. A real
person's recorded voice is a likeness: used only while their consent covers voice (ConsentGrant).
"""

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from generation.sound.audio import CONTENT_TYPES
from generation.sound.speech import DEFAULT_PITCH, DEFAULT_RATE, PITCH_RANGE, RATE_RANGE

RATE_VALIDATORS = [MinValueValidator(RATE_RANGE[0]), MaxValueValidator(RATE_RANGE[1])]
PITCH_VALIDATORS = [MinValueValidator(PITCH_RANGE[0]), MaxValueValidator(PITCH_RANGE[1])]


def audio_suffix(filename: str) -> str:
    """The suffix a stored sound keeps: the detected kind the service named it with, else .bin."""
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return suffix if suffix in CONTENT_TYPES else "bin"


def _sound_upload_to(instance, filename):
    project = instance.line.scene.project if isinstance(instance, LineRecording) else instance.project
    return f"sound/{project.team_id}/{project.pk}/{uuid.uuid4().hex}.{audio_suffix(filename)}"


def _speech_upload_to(instance, filename):
    return f"speech/{instance.key[:2]}/{instance.key}.wav"


class SoundStatus(models.TextChoices):
    PROCESSING = "processing", _("Processing")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Could not be used")


class SpeakerVoice(models.Model):
    """The voice a plain speaker name ("ANNA") speaks with in a project; a name without one gets a
    steady default (speech.default_voice)."""

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="speaker_voices")
    name = models.CharField(max_length=80)
    voice = models.CharField(max_length=16)
    rate = models.PositiveSmallIntegerField(default=DEFAULT_RATE, validators=RATE_VALIDATORS)
    pitch = models.PositiveSmallIntegerField(default=DEFAULT_PITCH, validators=PITCH_VALIDATORS)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="speaker_voice_unique_name")]


class SpeechClip(models.Model):
    """Speech the engine made, kept under the hash of (words, voice, rate, pitch, engine): the same
    line in the same voice is spoken once, whichever scene or take asks."""

    key = models.CharField(max_length=64, unique=True)
    audio = models.FileField(upload_to=_speech_upload_to, max_length=300)
    seconds = models.FloatField()
    created_at = models.DateTimeField(auto_now_add=True)


class LineRecording(models.Model):
    """A line replaced by a recording (made in the browser or uploaded). The original is kept as it
    came; `audio` is it decoded, at the studio's loudness, as the mix uses it."""

    line = models.OneToOneField("projects.DialogueLine", on_delete=models.CASCADE, related_name="recording")
    original = models.FileField(upload_to=_sound_upload_to, max_length=300)
    kind = models.CharField(max_length=8, help_text="What the file is, from its bytes (wav, mp3, webm…)")
    audio = models.FileField(upload_to=_sound_upload_to, max_length=300, blank=True)
    seconds = models.FloatField(null=True, blank=True)
    gain_db = models.FloatField(null=True, blank=True, help_text="What loudness normalisation applied")
    status = models.CharField(max_length=16, choices=SoundStatus.choices, default=SoundStatus.PROCESSING)
    error = models.CharField(max_length=300, blank=True)
    # Whose voice it is when the line's speaker is a real person: used only under their voice consent.
    character = models.ForeignKey("projects.Character", on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="voice_recordings")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)


class SoundBed(models.Model):
    """A project's music or ambience under the whole board: it starts at `start_at` seconds of the
    board, plays at `level_db`, and dips by `duck_db` under every line."""

    project = models.OneToOneField("projects.Project", on_delete=models.CASCADE, related_name="sound_bed")
    original = models.FileField(upload_to=_sound_upload_to, max_length=300)
    kind = models.CharField(max_length=8)
    audio = models.FileField(upload_to=_sound_upload_to, max_length=300, blank=True)
    seconds = models.FloatField(null=True, blank=True)
    name = models.CharField(max_length=200, blank=True, help_text="The file's name as uploaded (shown only)")
    start_at = models.FloatField(default=0, validators=[MinValueValidator(0), MaxValueValidator(3600)])
    level_db = models.FloatField(default=-14, validators=[MinValueValidator(-40), MaxValueValidator(6)])
    duck_db = models.FloatField(default=-12, validators=[MinValueValidator(-40), MaxValueValidator(0)])
    status = models.CharField(max_length=16, choices=SoundStatus.choices, default=SoundStatus.PROCESSING)
    error = models.CharField(max_length=300, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)


def _mix_upload_to(instance, filename):
    project = instance.project
    return f"sound/{project.team_id}/{project.pk}/playall-{instance.key[:16]}.m4a"


class PlayAllMix(models.Model):
    """Play all's soundtrack (voice-over and bed, on the cut's timeline), made by a worker and kept
    under the hash of everything it is made of: a change to a line, a voice, a recording, the bed or
    the takes gives another key, hence another mix; the same board asks for the same one."""

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="play_all_mixes")
    key = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=SoundStatus.choices, default=SoundStatus.PROCESSING)
    audio = models.FileField(upload_to=_mix_upload_to, max_length=300, blank=True)
    seconds = models.FloatField(null=True, blank=True)
    # The lines as mixed, on the cut's timeline: [{"start", "end", "speaker", "text"}] (the captions).
    cues = models.JSONField(default=list, blank=True)
    # The same cues as WebVTT, written once by the worker: every viewer's player reads them (3,000 cues formatted
    # per request were a fifth of the captions' time at 1,000 scenes). Empty on mixes made before.
    captions = models.TextField(blank=True)
    # The hash of what the recipe was read from (`playall.inputs_digest`) when a page last found this mix by
    # its key: a page that reads the same finds it without building the recipe. Empty until a page asked.
    inputs = models.CharField(max_length=64, blank=True)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "key"], name="play_all_mix_unique_key")]
