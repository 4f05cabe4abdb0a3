"""ComfyUI workflows a team uploads: reading the graph, guessing its inputs, registering it as a model.

A workflow is ComfyUI's API-format export, {node_id: {class_type, inputs}}. The studio fills a
few of its literal inputs per take (prompt, size, frames, fps, seed, reference image); which
ones is the owner's call, helped by a guess from the usual node types.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from generation.models import (
    CatalogModel,
    ComfyWorkflow,
    FramesRule,
    ProviderConnection,
)
from generation.providers import ModelSource, facts_for
from projects.audit import audit_record, changes
from projects.inputs import has_control_characters, parse_id
from projects.models import AuditAction

if TYPE_CHECKING:
    from django.contrib.auth.models import User


MAX_BYTES = 2 * 1024 * 1024
MAX_NODES = 1000
MAX_DEPTH = 32  # an API-format graph nests 4 or 5 levels (node, inputs, a link or a list of values)
EXPORT_HOWTO = _("In ComfyUI, open the workflow and choose Workflow › Export (API); in older versions, "
                  "turn on “Enable Dev mode Options” in the settings and use “Save (API Format)”.")
TEXT_INPUTS = ("text", "prompt", "positive_prompt")
LENGTH_INPUTS = ("length", "num_frames", "frames", "video_length", "frame_count")
FPS_INPUTS = ("frame_rate", "fps")
SEED_INPUTS = ("seed", "noise_seed")


@dataclass(frozen=True)
class LiteralInput:
    """One input of the graph that holds a value (not a link), which the studio could fill."""

    node_id: str
    class_type: str
    name: str
    value: object

    @property
    def key(self) -> str:
        return f"{self.node_id}|{self.name}"

    @property
    def label(self) -> str:
        shown = str(self.value)
        shown = shown if len(shown) <= 40 else shown[:39] + "…"
        return f"node {self.node_id} · {self.class_type} · {self.name} = {shown}"


def workflow_parse(data: bytes) -> dict[str, Any]:
    """The API-format graph in `data`, or ValidationError saying in words what the file is instead."""
    if len(data) > MAX_BYTES:
        raise ValidationError(gettext("The file is larger than %(most)d MB; a ComfyUI workflow is a few kilobytes. "
                                      "Is this the right file?") % {"most": MAX_BYTES // 1024**2})
    try:
        graph = json.loads(data.decode("utf-8-sig"), parse_constant=_refuse_constant)
    except RecursionError:  # "[[[[…" nested past what the parser follows
        raise ValidationError(_too_deep())
    except (UnicodeDecodeError, ValueError):
        raise ValidationError(gettext("This file is not JSON, so it is not a ComfyUI workflow. %(howto)s")
                              % {"howto": EXPORT_HOWTO})
    _refuse_unstorable(graph)
    if isinstance(graph, dict) and "nodes" in graph and "links" in graph:
        raise ValidationError(gettext("This is the workflow as ComfyUI's editor saves it (UI format, with “nodes” "
                                      "and “links”); the studio needs the API format. %(howto)s")
                              % {"howto": EXPORT_HOWTO})
    if not isinstance(graph, dict) or not graph:
        raise ValidationError(gettext("This JSON is not a ComfyUI API-format workflow (an object of nodes). "
                                      "%(howto)s") % {"howto": EXPORT_HOWTO})
    if len(graph) > MAX_NODES:
        raise ValidationError(gettext("The workflow has %(count)d nodes; the studio takes up to %(most)d.")
                              % {"count": len(graph), "most": MAX_NODES})
    for node_id, node in graph.items():
        if not (isinstance(node, dict) and isinstance(node.get("class_type"), str)
                and isinstance(node.get("inputs"), dict)):
            raise ValidationError(gettext("Node “%(node)s” has no class_type and inputs, so this is not an "
                                          "API-format workflow. %(howto)s")
                                  % {"node": str(node_id)[:40], "howto": EXPORT_HOWTO})
    return graph


def _too_deep() -> str:
    return gettext("This JSON nests deeper than a ComfyUI workflow does (at most %(most)d levels). Is this the "
                   "right file?") % {"most": MAX_DEPTH}


def _refuse_constant(name: str) -> None:
    # NaN and Infinity are not JSON: PostgreSQL's jsonb refuses them, and no input takes them.
    raise ValidationError(gettext("The workflow holds %(name)s, which is not a number an input can take. Is this "
                                  "the right file?") % {"name": name})


def _refuse_unstorable(value: object, depth: int = 0) -> None:
    """Refuse what the graph's column cannot hold: PostgreSQL's jsonb refuses NUL (\\u0000) in any
    text, keys included, and numbers past a float's range (1e999 reads as infinity); other control
    characters are refused as in every text field, and nesting no workflow has."""
    if depth > MAX_DEPTH:
        raise ValidationError(_too_deep())
    if isinstance(value, float) and not math.isfinite(value):
        raise ValidationError(gettext("The workflow holds a number too large to be an input's value. Is this the "
                                      "right file?"))
    if has_control_characters(value) or (isinstance(value, dict) and any(map(has_control_characters, value))):
        raise ValidationError(gettext("The workflow holds text with control characters (such as NUL), which can't "
                                      "be stored. Remove them in ComfyUI and export the workflow again."))
    for item in value.values() if isinstance(value, dict) else value if isinstance(value, list) else ():
        _refuse_unstorable(item, depth + 1)


def _is_link(value: object) -> bool:
    return isinstance(value, list) and len(value) == 2 and isinstance(value[0], str) and isinstance(value[1], int)


def _node_order(node_id: str) -> tuple[int, int, str]:
    # parse_id, not str.isdigit: "²" is a digit to Python and int() refuses it, or 5000 digits.
    number = parse_id(node_id)
    return (0, number, "") if number is not None else (1, 0, node_id)


def literal_inputs(graph: dict[str, Any]) -> list[LiteralInput]:
    found = []
    for node_id in sorted(graph, key=_node_order):
        node = graph[node_id]
        for name, value in node["inputs"].items():
            if not _is_link(value) and isinstance(value, (str, int, float, bool)):
                found.append(LiteralInput(node_id, node["class_type"], name, value))
    return found


def _upstream_text(graph: dict[str, Any], start: str) -> str | None:
    """The nearest text encoder feeding `start` (through conditioning nodes), by its node id."""
    seen, frontier = set(), [start]
    while frontier:
        node_id = frontier.pop(0)
        if node_id in seen or node_id not in graph:
            continue
        seen.add(node_id)
        node = graph[node_id]
        if "TextEncode" in node["class_type"] and isinstance(node["inputs"].get("text"), str):
            return node_id
        frontier += [str(v[0]) for v in node["inputs"].values() if _is_link(v)]
    return None


def guess_inputs(graph: dict[str, Any]) -> dict[str, Any]:
    """role → [node_id, input_name], from the usual nodes of LTX-Video and Wan workflows."""
    literals = literal_inputs(graph)
    guess: dict[str, list[str]] = {}

    def first(names: Iterable[str], class_filter: Callable[[str], bool] = lambda c: True) -> list[str] | None:
        for item in literals:
            if item.name in names and class_filter(item.class_type):
                return [item.node_id, item.name]
        return None

    for node in graph.values():  # the sampler's positive and negative lead back to the two prompts
        inputs = node["inputs"]
        if _is_link(inputs.get("positive")) and _is_link(inputs.get("negative")):
            positive = _upstream_text(graph, str(inputs["positive"][0]))
            negative = _upstream_text(graph, str(inputs["negative"][0]))
            if positive and negative and positive != negative:
                guess["prompt"], guess["negative_prompt"] = [positive, "text"], [negative, "text"]
                break
    if "prompt" not in guess:
        texts = [i for i in literals if i.name in TEXT_INPUTS and isinstance(i.value, str)]
        if texts:
            guess["prompt"] = [texts[0].node_id, texts[0].name]
        if len(texts) > 1:
            guess["negative_prompt"] = [texts[1].node_id, texts[1].name]
    for role, names in (("width", ("width",)), ("height", ("height",)), ("length", LENGTH_INPUTS),
                        ("seed", SEED_INPUTS)):
        if found := first(names):
            guess[role] = found
    # The output node's rate decides how long the file plays; fall back to any rate input.
    if found := first(FPS_INPUTS, lambda c: "Save" in c or "Combine" in c or "CreateVideo" in c) or first(FPS_INPUTS):
        guess["fps"] = found
    images = [[i.node_id, i.name] for i in literals if i.name == "image" and i.class_type == "LoadImage"]
    if images:
        guess["image"] = images[0]
    if len(images) == 2:  # a first-last-frame workflow (LTX, Wan FLF2V) loads its two frames in order
        guess["end_image"] = images[1]
    videos = [[i.node_id, i.name] for i in literals if i.name == "video" and "LoadVideo" in i.class_type]
    if videos:  # VHS_LoadVideo, core LoadVideo: a workflow that continues a clip
        guess["source_video"] = videos[0]
    return guess


def guess_frames_rule(graph: dict[str, Any]) -> str:
    types = " ".join(node["class_type"] for node in graph.values())
    if "LTXV" in types:
        return FramesRule.EIGHT_N_PLUS_ONE
    if "Wan" in types or "Hunyuan" in types:
        return FramesRule.FOUR_N_PLUS_ONE
    return FramesRule.ANY


def _guess_fps(graph: dict[str, Any], inputs: dict[str, Any]) -> int:
    target = inputs.get("fps")
    if target is None:
        return 24
    try:
        return max(1, min(120, round(float(graph[target[0]]["inputs"][target[1]]))))
    except (TypeError, ValueError, KeyError):
        return 24


def workflow_upload(*, connection: ProviderConnection, user: User, name: str, data: bytes) -> ComfyWorkflow:
    """Keep an uploaded graph with a first guess at its inputs; it renders once the owner confirms them."""
    facts = facts_for(connection.kind)
    if facts is None or facts.model_source != ModelSource.WORKFLOWS:
        raise ValidationError(gettext("Workflows are uploaded to ComfyUI connections."))
    graph = workflow_parse(data)
    inputs = guess_inputs(graph)
    base = slugify(name)[:100] or "workflow"
    slug, n = base, 2
    while ComfyWorkflow.objects.filter(connection=connection, slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    with transaction.atomic():
        workflow = ComfyWorkflow.objects.create(
            team=connection.team, connection=connection, name=name, slug=slug, graph=graph, inputs=inputs,
            frames_rule=guess_frames_rule(graph), fps=_guess_fps(graph, inputs), uploaded_by=user)
        audit_record(team=connection.team_id, actor=user, action=AuditAction.WORKFLOW_UPLOADED, target=workflow,
                     target_label=f"{name} · {connection.label}", details={"nodes": len(graph)})
    return workflow


SHOT_LIST = {"shot_timing": "exact", "shots_max": 6, "shots_seconds_min": None, "shots_seconds_max": None,
             "shot_min_seconds": 1}
NO_SHOT_LIST = {"shot_timing": "", "shots_max": None, "shots_seconds_min": None, "shots_seconds_max": None,
                "shot_min_seconds": None}


def workflow_map(*, workflow: ComfyWorkflow, inputs: dict[str, Any], frames_rule: str, fps: int, sizes: list[str],
                 durations: list[int], price_per_second: Decimal, user: User | None = None) -> CatalogModel:
    """Confirm which inputs the studio fills, and register (or update) the workflow as a model."""
    literals = {(i.node_id, i.name) for i in literal_inputs(workflow.graph)}
    inputs = {role: list(target) for role, target in inputs.items() if target}
    for role, target in inputs.items():
        if role not in ComfyWorkflow.ROLES or tuple(target) not in literals:
            raise ValidationError(gettext("The %(role)s input points at nothing in this workflow.") % {"role": role})
    if "prompt" not in inputs:
        raise ValidationError(gettext("Choose the input that takes the prompt: without it every take renders "
                                      "the same picture."))
    if "end_image" in inputs and "image" not in inputs:
        raise ValidationError(gettext("A workflow that ends on an end frame starts from a start frame too: choose "
                                      "the input that takes the reference image (start frame) as well."))
    if "end_image" in inputs and inputs["end_image"] == inputs.get("image"):
        raise ValidationError(gettext("The start frame and the end frame need two different image inputs."))
    if "source_video" in inputs and "end_image" in inputs:
        raise ValidationError(gettext("A workflow that extends a take continues its clip: it cannot end on an end "
                                      "frame as well. Clear one of the two inputs."))
    # A workflow that takes a source video extends takes by the lengths it renders; it saves the new part only
    # unless the owner says otherwise on its catalog entry (what an extension returns).
    extends = "source_video" in inputs
    existing = workflow.catalog_model
    returns = (existing.extend_returns if existing is not None and existing.extend_returns else "new") if extends else ""
    with transaction.atomic():
        before = _mapping_of(workflow, workflow.catalog_model)
        workflow.inputs, workflow.frames_rule, workflow.fps = inputs, frames_rule, fps
        model, created = CatalogModel.objects.update_or_create(
            connection=workflow.connection, model_id=workflow.slug,
            defaults={"kind": workflow.connection.kind, "display_name": workflow.name, "sizes": sizes,
                      "durations": durations, "input_kinds": ["text"] + (["image"] if "image" in inputs else []),
                      "end_frame": "end_image" in inputs,
                      # A shot-list input takes several scenes as one take, each shot timed.
                      **(SHOT_LIST if "shots" in inputs else NO_SHOT_LIST),
                      "extend_seconds": list(durations) if extends else [], "extend_returns": returns,
                      "price_per_second": {"*": float(price_per_second)},
                      "notes": f"ComfyUI workflow, {fps} fps, frames {frames_rule}"})
        workflow.catalog_model = model
        workflow.save()
        changed = changes({} if created else before, _mapping_of(workflow, model))
        if changed:
            audit_record(team=workflow.team_id, actor=user,
                         action=AuditAction.MODEL_REGISTERED if created else AuditAction.CATALOG_EDITED,
                         target=model, target_label=f"{model.display_name} ({model.model_id}) · {workflow.connection.label}",
                         details={"changes": changed})
    return model


def _mapping_of(workflow: ComfyWorkflow, model: CatalogModel | None) -> dict[str, Any]:
    """What the audit log compares when a workflow's mapping is saved: its inputs and what it renders at what price."""
    return {"inputs": workflow.inputs, "frames_rule": workflow.frames_rule, "fps": workflow.fps,
            "sizes": model.sizes if model else None, "durations": model.durations if model else None,
            "extend_seconds": model.extend_seconds if model else None,
            "price_per_second": model.price_per_second if model else None}
