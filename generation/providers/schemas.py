"""A model's published input schema (OpenAPI, as fal and Replicate publish them), read into the catalog's terms.

`listed_from_schema` maps what the schema says — lengths, sizes, a start and an end frame, audio, several
shots (an array of {prompt, duration}, Kling's multi_prompt) — and only that: a length the schema gives no
range for stays unknown (the owner is asked), an aspect ratio the studio cannot turn into pixels is left
unmapped and named, and a required input the studio cannot fill makes the model one it cannot render. It
also writes the model's input map: which of its inputs take the prompt, the length, the ratio, the frames
and the shots, and how each is written ("8s", "8" or 8).
`mapped_input` builds a take's input from that map, for models the adapters do not map by hand.

Wire only: no studio model or domain (import-linter keeps it so).
"""

from __future__ import annotations

import base64
import dataclasses
import mimetypes
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.utils.translation import gettext

from generation.durations import grouped
from generation.words import said

from .base import ListedModel, ProviderError, RenderRequest, Shot, dict_at

# Pixel sizes of the aspect ratios and resolutions a take's size is sent as (the size's nearest ratio, its
# short side's resolution). Other ratios (1:1, 4:3, 21:9…) and resolutions (480p, 4k) are named, not guessed.
SIZES = {("16:9", "720p"): "1280x720", ("9:16", "720p"): "720x1280",
         ("16:9", "1080p"): "1920x1080", ("9:16", "1080p"): "1080x1920"}
RATIO = re.compile(r"^[1-9][0-9]{0,2}:[1-9][0-9]{0,2}$")
SECONDS_WITH_S = re.compile(r"^([1-9][0-9]{0,2})s$")
SECONDS = re.compile(r"^([1-9][0-9]{0,2})$")
MAX_LISTED_SECONDS = 120  # as the catalog's own lengths


@dataclass(frozen=True)
class Vocabulary:
    """The input names a provider's schemas use for what the studio fills."""

    prompt: tuple[str, ...] = ("prompt",)
    duration: tuple[str, ...] = ("duration",)
    aspect_ratio: tuple[str, ...] = ("aspect_ratio",)
    resolution: tuple[str, ...] = ("resolution",)
    audio: tuple[str, ...] = ("generate_audio",)
    image: tuple[str, ...] = ("image_url", "image", "start_image_url", "first_frame_url")
    end_image: tuple[str, ...] = ("last_frame", "last_frame_url", "end_image_url", "tail_image_url")
    multi_prompt: tuple[str, ...] = ("multi_prompt",)
    shot_type: tuple[str, ...] = ("shot_type",)  # Kling's: "customize" keeps the shots as given


FAL = Vocabulary()
REPLICATE = Vocabulary()


def resolve(node: object, components: dict[str, Any], depth: int = 0) -> dict[str, Any]:
    """A property's schema with `$ref`, a one-item `allOf` (Cog's enums) and a nullable `anyOf` (fal's
    optional inputs) resolved; {} for what is not a schema."""
    if not isinstance(node, dict) or depth > 8:
        return {}
    if isinstance(node.get("$ref"), str):
        name = node["$ref"].rpartition("/")[2]
        return {**resolve(components.get(name), components, depth + 1),
                **{k: v for k, v in node.items() if k != "$ref"}}
    for key in ("allOf", "anyOf", "oneOf"):
        options = [o for o in node.get(key) or [] if isinstance(o, dict) and o.get("type") != "null"]
        if options:
            merged = {k: v for k, v in node.items() if k != key}
            return {**resolve(options[0], components, depth + 1), **merged}
    return node


def _durations(schema: dict[str, Any]) -> tuple[tuple[int, ...] | None, str]:
    """(the lengths, how one is written: "int", "string" ("8") or "seconds" ("8s")); lengths None when the
    schema gives no enum and no range."""
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        if all(type(v) is int for v in enum):
            return tuple(sorted(v for v in enum if 0 < v <= MAX_LISTED_SECONDS)), "int"
        texts = [v for v in enum if isinstance(v, str)]
        if len(texts) == len(enum) and all(SECONDS_WITH_S.match(v) for v in texts):
            return tuple(sorted(int(v[:-1]) for v in texts if int(v[:-1]) <= MAX_LISTED_SECONDS)), "seconds"
        if len(texts) == len(enum) and all(SECONDS.match(v) for v in texts):
            return tuple(sorted(int(v) for v in texts if int(v) <= MAX_LISTED_SECONDS)), "string"
        return None, ""  # lengths written some other way ("auto", "5.5"): not mapped
    if schema.get("type") in ("integer", "number"):
        low, high = schema.get("minimum"), schema.get("maximum")
        if type(low) is int and type(high) is int and 0 < low <= high <= MAX_LISTED_SECONDS:
            return tuple(range(low, high + 1)), "int"
        return None, "int"
    return None, ""


def _choices(schema: dict[str, Any]) -> list[str]:
    enum = schema.get("enum")
    return [v for v in enum if isinstance(v, str)] if isinstance(enum, list) else []


def _first(properties: dict[str, Any], names: tuple[str, ...]) -> str | None:
    return next((name for name in names if name in properties), None)


def _shots(schema: dict[str, Any], components: dict[str, Any],
           durations: tuple[int, ...] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Several timed shots in one request (Kling's multi_prompt: [{prompt, duration}]): exact timings. Returns
    (the catalog's multi-shot fields, how a shot is written: {"duration": format, "seconds": [...], "prompt_max"})
    — both empty when the schema's array is not one of shots the studio can write."""
    if schema.get("type") != "array":
        return {}, {}
    item = resolve(schema.get("items"), components)
    fields = dict_at(item, "properties")
    if "prompt" not in fields or "duration" not in fields:
        return {}, {}
    shot_lengths, written = _durations(resolve(fields["duration"], components))
    if not written:
        return {}, {}  # a shot's length written some other way: the studio could not send it
    found: dict[str, object] = {"shot_timing": "exact"}
    if type(schema.get("maxItems")) is int and schema["maxItems"] >= 2:
        found["shots_max"] = schema["maxItems"]
    if durations:
        found.update(shots_seconds_min=min(durations), shots_seconds_max=max(durations))
    if shot_lengths:
        found["shot_min_seconds"] = min(shot_lengths)
    wire: dict[str, Any] = {"duration": written, **({"seconds": list(shot_lengths)} if shot_lengths else {})}
    prompt_max = resolve(fields["prompt"], components).get("maxLength")
    if type(prompt_max) is int and prompt_max > 0:
        wire["prompt_max"] = prompt_max
    return found, wire


def listed_from_schema(model_id: str, input_schema: dict[str, Any], components: dict[str, Any], *, vocabulary: Vocabulary,
                       display_name: str = "", deprecated: bool = False,
                       price: Decimal | None = None) -> ListedModel:
    """The model as its input schema says it (see the module's docstring)."""
    schema = resolve(input_schema, components)
    raw = schema.get("properties")
    properties = {name: resolve(spec, components) for name, spec in raw.items()} if isinstance(raw, dict) else {}
    required = {name for name in schema.get("required") or [] if isinstance(name, str)}
    used: set[str] = set()
    blockers: list[tuple[str, str]] = []
    unmapped: list[str] = []
    input_map: dict[str, Any] = {}
    prompt = _first(properties, vocabulary.prompt)
    if prompt is None:
        blockers.append(("no_prompt", ""))
    else:
        input_map["prompt"], used = prompt, used | {prompt}
    durations = None
    if name := _first(properties, vocabulary.duration):
        durations, written = _durations(properties[name])
        if written:
            input_map["duration"] = {"field": name, "format": written}
            used.add(name)
    ratios, resolutions = [], []
    if name := _first(properties, vocabulary.aspect_ratio):
        ratios = [r for r in _choices(properties[name]) if RATIO.match(r)]
        if ratios:
            input_map["aspect_ratio"] = {"field": name, "choices": ratios}
            used.add(name)
    if name := _first(properties, vocabulary.resolution):
        resolutions = _choices(properties[name])
        if resolutions:
            input_map["resolution"] = {"field": name, "choices": resolutions}
            used.add(name)
    sizes = tuple(SIZES[(r, res)] for res in ("720p", "1080p") for r in ("16:9", "9:16")
                  if r in ratios and res in resolutions) if ratios and resolutions else None
    unmapped += [r for r in ratios if r not in ("16:9", "9:16")]
    unmapped += [res for res in resolutions if res not in ("720p", "1080p")]
    has_audio = None
    if (name := _first(properties, vocabulary.audio)) and properties[name].get("type") == "boolean":
        input_map["audio"], has_audio = name, True
        used.add(name)
    # Text alone renders unless the start frame is required (an image-to-video model).
    image = _first(properties, vocabulary.image)
    kinds = ["text"] if prompt is not None and image not in required else []
    end_frame = False
    if image:
        input_map["image"] = image
        used.add(image)
        kinds.append("image")
        if end := _first(properties, vocabulary.end_image):
            input_map["end_image"], end_frame = end, True
            used.add(end)
    shots: dict[str, Any] = {}
    if name := _first(properties, vocabulary.multi_prompt):
        shots, wire = _shots(properties[name], components, durations)
        if shots:
            # The shots go in their own input, and the prompt not at all unless the schema requires it
            # (Kling: "either prompt or multi_prompt, not both").
            input_map["shots"] = {"field": name, **wire, "with_prompt": prompt in required}
            used.add(name)
            kind = _first(properties, vocabulary.shot_type)
            if kind and "customize" in _choices(properties[kind]):
                input_map["shots"]["type"] = {"field": kind, "value": "customize"}
                used.add(kind)
    for name in sorted(required - used):
        blockers.append(("required_input", name))
    return ListedModel(
        model_id=model_id, display_name=display_name or model_id, deprecated=deprecated, sizes=sizes,
        durations=durations or None, input_kinds=tuple(kinds) or None, has_audio=has_audio, end_frame=end_frame,
        # No multi_prompt says nothing of shots written in the prompt (Seedance numbers them there).
        shot_timing=shots.get("shot_timing"), shots_max=shots.get("shots_max"),
        shots_seconds_min=shots.get("shots_seconds_min"), shots_seconds_max=shots.get("shots_seconds_max"),
        shot_min_seconds=shots.get("shot_min_seconds"), price_per_second=price, input_map=input_map,
        not_sent=tuple(sorted(set(properties) - used - required)), unmapped=tuple(unmapped),
        blockers=tuple(blockers))


def hand_mapped(listed: ListedModel) -> ListedModel:
    """A model whose input an adapter maps by hand (its frames may go to sibling endpoints, its audio is
    what the adapter sends): its schema still says its lengths, sizes and shots, not how the studio sends it."""
    return dataclasses.replace(listed, input_kinds=None, end_frame=None, has_audio=None, input_map={}, not_sent=(),
                               blockers=())


# --- a take's input, from the map --------------------------------------------------------------------

def _data_uri(path: Path) -> str:
    content_type = mimetypes.guess_type(path.name)[0] or "image/png"
    return f"data:{content_type};base64,{base64.b64encode(path.read_bytes()).decode()}"


def _nearest_ratio(request: RenderRequest, choices: list[str]) -> str:
    ratio = request.width / request.height
    return min(choices, key=lambda c: abs(ratio - int(c.split(":")[0]) / int(c.split(":")[1])))


def _written(seconds: int, written: str) -> int | str:
    return {"seconds": f"{seconds}s", "string": str(seconds)}.get(written, seconds)


def shot_problems(input_map: dict[str, Any], shots: Sequence[Shot]) -> list[str]:
    """Why a model added from its schema would refuse this shot list (its map says how many, how long, how
    many characters): empty when it takes it; one reason when its schema lists no shots."""
    wire = input_map.get("shots") if isinstance(input_map, dict) else None
    if not isinstance(wire, dict):
        return [gettext("Its published schema lists no shots: choose a model that renders several shots.")]
    problems: list[str] = []
    if (limit := wire.get("prompt_max")) is not None:
        problems += [gettext("Scene %(number)s's prompt has %(length)s characters; a shot takes at most %(limit)s. "
                             "Shorten it.") % {"number": shot.scene_number, "length": grouped(len(shot.prompt)),
                                               "limit": grouped(limit)}
                     for shot in shots if len(shot.prompt) > limit]
    if seconds := wire.get("seconds"):
        allowed = (gettext("%(low)s to %(high)s") % {"low": seconds[0], "high": seconds[-1]}
                   if seconds == list(range(seconds[0], seconds[-1] + 1)) else ", ".join(str(s) for s in seconds))
        problems += [gettext("Scene %(number)s lasts %(seconds)s s; a shot lasts %(allowed)s s.")
                     % {"number": shot.scene_number, "seconds": shot.seconds, "allowed": allowed}
                     for shot in shots if shot.seconds not in seconds]
    return problems


def mapped_input(request: RenderRequest, input_map: dict[str, Any]) -> dict[str, Any]:
    """The take's input for a model added from its schema: only the inputs its map names, written as the
    schema writes them. A length, size, frame or shot list the model does not take is refused before
    anything is sent."""
    inputs: dict[str, object] = {input_map["prompt"]: request.prompt}
    if request.shots:
        wire = input_map.get("shots")
        if not isinstance(wire, dict):  # never dropped silently: the catalog entry declared what it cannot take
            raise ProviderError(said("provider.model_no_shots", model=request.model), code="invalid_request")
        if problems := shot_problems(input_map, request.shots):
            raise ProviderError(" ".join(problems), code="invalid_request")
        if not wire.get("with_prompt"):
            inputs = {}
        inputs[wire["field"]] = [{"prompt": shot.prompt, "duration": _written(shot.seconds, wire["duration"])}
                                 for shot in request.shots]
        if kind := wire.get("type"):
            inputs[kind["field"]] = kind["value"]
    if duration := input_map.get("duration"):
        inputs[duration["field"]] = _written(request.seconds, duration["format"])
    if ratio := input_map.get("aspect_ratio"):
        inputs[ratio["field"]] = _nearest_ratio(request, ratio["choices"])
    if resolution := input_map.get("resolution"):
        wanted = "1080p" if min(request.width, request.height) >= 1080 else "720p"
        if wanted not in resolution["choices"]:
            raise ProviderError(said("provider.model_resolutions", model=request.model,
                                     choices=", ".join(resolution["choices"]), size=request.size),
                                code="invalid_request")
        inputs[resolution["field"]] = wanted
    if audio := input_map.get("audio"):
        inputs[audio] = True  # the catalog books it with audio
    if request.input_reference is not None:
        if "image" not in input_map:
            raise ProviderError(said("provider.model_no_start_frame", model=request.model), code="invalid_request")
        inputs[input_map["image"]] = _data_uri(Path(request.input_reference))
    if request.end_frame is not None:
        if "end_image" not in input_map:
            raise ProviderError(said("provider.model_no_end_frame", model=request.model), code="invalid_request")
        inputs[input_map["end_image"]] = _data_uri(Path(request.end_frame))
    return inputs
