"""A line spoken offline: eSpeak NG, run as its own process (espeak_process.py says why).

eSpeak NG ships inside the `espeakng-loader` wheel (its library and every language's data), so
`./studio start` installs it from PyPI with nothing downloaded at run time. One process speaks a
batch of lines (a scene's), about 50 ms of CPU to start and a few ms a line after that.

A voice is a language and a variant ("fr+f2": French, second female variant); rate is in words a
minute, pitch 0–99. `SpeechRequest.key` names the result for the cache: the same words in the same
voice are spoken once.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import struct
import subprocess
import sys
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii
from pathlib import Path

import numpy as np
from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from generation.sound.audio import SAMPLE_RATE, resample

LANGUAGES = {
    "en-us": _("English (US)"), "en": _("English (UK)"), "fr": _("French"), "de": _("German"),
    "es": _("Spanish"), "it": _("Italian"),
}
VARIANTS = {
    "m3": _("male voice 1"), "m7": _("male voice 2"), "m1": _("male voice 3"),
    "f2": _("female voice 1"), "f4": _("female voice 2"), "f1": _("female voice 3"),
}
VOICES = {f"{lang}+{variant}": format_lazy("{} — {}", lang_name, variant_name)
          for lang, lang_name in LANGUAGES.items() for variant, variant_name in VARIANTS.items()}
DEFAULT_RATE, RATE_RANGE = 165, (80, 260)  # words a minute
DEFAULT_PITCH, PITCH_RANGE = 50, (0, 99)
MAX_TEXT = 2000
TIMEOUT_SECONDS = 60

ENGINE = "eSpeak NG 1.52 (espeakng-loader)"
_KEY_HEAD = json.dumps([ENGINE])[:-1]  # '["eSpeak NG …"': what every key's payload starts with


class SpeechError(Exception):
    """The engine could not speak: missing, crashed, or a voice it does not have."""


@dataclass(frozen=True)
class SpeechRequest:
    text: str
    voice: str
    rate: int = DEFAULT_RATE
    pitch: int = DEFAULT_PITCH

    @property
    def key(self) -> str:
        """What the spoken audio is cached under: the words, the voice, its rate and pitch, the engine."""
        # json.dumps([ENGINE, words, voice, rate, pitch]), written out: the same bytes (test_speech.py checks it)
        # without an encoder made per call, for Play all keys every line of the board.
        payload = (f"{_KEY_HEAD}, {encode_basestring_ascii(clean_text(self.text))}, "
                   f"{encode_basestring_ascii(self.voice)}, {int(self.rate)}, {int(self.pitch)}]")
        return hashlib.sha256(payload.encode()).hexdigest()


def voice_label(voice: str) -> str:
    return str(VOICES.get(voice, voice))


def voice_choices(language: str | None = None) -> list[tuple[str, str | Promise]]:
    """The voices and their names, lazily: a form built at import still names them in each reader's language."""
    return [(key, label) for key, label in VOICES.items() if language is None or key.split("+")[0] == language]


@functools.lru_cache(maxsize=1024)  # a board's few speakers, asked once per line (3,000 at 1,000 scenes)
def default_voice(name: str, language: str = "en-us") -> str:
    """The voice a plain speaker name gets until someone picks one: steady for the name, and two
    names rarely share one."""
    variants = list(VARIANTS)
    pick = hashlib.sha256(name.strip().casefold().encode()).digest()[0] % len(variants)
    return f"{language if language in LANGUAGES else 'en-us'}+{variants[pick]}"


def clean_text(text: str) -> str:
    """The words as the engine reads them: no control characters (they are not speech), one line."""
    text = text[:MAX_TEXT]
    # Printable text has no control or separator character but the ASCII space: nothing to replace (the
    # same words, without a Unicode lookup per character: Play all keys every line of the board).
    kept = text if text.isprintable() else "".join(" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in text)
    return " ".join(kept.split())


def _engine_files() -> tuple[Path, Path]:
    # find_spec locates the wheel without importing it: the library is loaded by the engine's process only.
    spec = importlib.util.find_spec("espeakng_loader")
    if spec is None or not spec.submodule_search_locations:
        raise SpeechError("The speech engine (espeakng-loader) is not installed: run ./studio start.")
    folder = Path(list(spec.submodule_search_locations)[0])
    return folder / "libespeak-ng.so", folder / "espeak-ng-data"


def synthesize(requests: Sequence[SpeechRequest]) -> list[np.ndarray]:
    """Each request spoken, as mono float32 samples at SAMPLE_RATE (48 kHz), in one engine process."""
    if not requests:
        return []
    for request in requests:
        if request.voice not in VOICES:
            raise SpeechError(f"Unknown voice {request.voice!r}.")
    library, data = _engine_files()
    script = Path(__file__).with_name("espeak_process.py")
    lines = b"".join(json.dumps({"text": clean_text(r.text), "voice": r.voice, "rate": _clamp(r.rate, RATE_RANGE),
                                 "pitch": _clamp(r.pitch, PITCH_RANGE)}).encode() + b"\n" for r in requests)
    try:
        done = subprocess.run([sys.executable, "-I", "-S", str(script), str(library), str(data)], input=lines,
                              capture_output=True, timeout=TIMEOUT_SECONDS, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SpeechError(f"The speech engine did not answer: {exc}")
    out = done.stdout
    if done.returncode != 0 or len(out) < 4:
        raise SpeechError(f"The speech engine failed: {done.stderr.decode(errors='replace')[-300:]}")
    (rate,), at, spoken = struct.unpack_from("<I", out), 4, []
    for request in requests:
        if len(out) < at + 8:
            raise SpeechError("The speech engine stopped before the last line.")
        status, size = struct.unpack_from("<iI", out, at)
        at += 8
        if status != 0:
            raise SpeechError(f"The speech engine has no voice {request.voice!r}.")
        pcm = np.frombuffer(out[at:at + size], dtype="<i2").astype(np.float32) / 32768.0
        at += size
        spoken.append(resample(pcm, rate, SAMPLE_RATE))
    return spoken


def _clamp(value: int, bounds: tuple[int, int]) -> int:
    return max(bounds[0], min(bounds[1], int(value)))
