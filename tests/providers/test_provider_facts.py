"""Each adapter declares what its provider is (ProviderFacts), in one place, and the rest of the
studio asks it: no page, form or receiver says a provider's facts again by branching on its kind."""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

import pytest

from generation import providers
from generation.models import CatalogModel, ConnectionKind
from generation.providers import Provider, ProviderFacts, WebhookScheme, adapter_class
from generation.providers import facts as facts_module

ROOT = Path(__file__).resolve().parents[2]
KINDS = [value for value, _label in ConnectionKind.choices]
# The adapters and the registry mapping kinds to them (facts.py finds each kind's adapter and its facts):
# the only places a kind decides anything.
ADAPTERS = {f"generation/providers/{name}.py" for name in (
    "__init__", "base", "facts", "local_previz", "openai_videos", "replicate", "veo", "runway", "fal", "comfyui")}
MARKER = "kind check:"  # a comment saying why a branch on the kind is not a provider's fact


@pytest.mark.parametrize("kind", KINDS)
def test_every_adapter_declares_its_own_facts(kind):
    adapter = adapter_class(kind)
    assert isinstance(adapter.__dict__.get("facts"), ProviderFacts), f"{adapter.__name__} declares no facts"


@pytest.mark.parametrize("kind", KINDS)
def test_no_adapter_says_a_fact_a_second_time_beside_its_declaration(kind):
    adapter = adapter_class(kind)
    names = {f.name for f in dataclasses.fields(ProviderFacts)} | {
        "can_cancel", "can_delete", "can_extend", "can_list_jobs", "job_list_is_complete", "lists_jobs",
        "lists_models"}
    restated = [name for klass in adapter.__mro__ if klass is not object for name in vars(klass) if name in names]
    assert restated == []


def _overrides(adapter, method: str) -> bool:
    """The adapter (or a class it builds on, short of Provider) defines `method` itself."""
    return any(method in vars(klass) for klass in adapter.__mro__[:adapter.__mro__.index(Provider)])


@pytest.mark.parametrize("kind", KINDS)
def test_the_declared_facts_are_what_the_adapter_does(kind):
    adapter = adapter_class(kind)
    facts = adapter.facts
    # A cancel that cannot stop anything must not be offered as one (Veo's returned False, and takes
    # said only "Canceled by …" while Google rendered and billed them).
    assert facts.cancels == _overrides(adapter, "cancel")
    assert facts.deletes_finished == _overrides(adapter, "delete")
    assert facts.lists_jobs == _overrides(adapter, "find_job")
    # An adapter declaring extension implements extend(), and one that implements it declares it: the
    # catalog and the entry form ask the fact, so a fact without the wire would book takes that fail.
    assert facts.extends == _overrides(adapter, "extend")
    # "Check for model changes" is offered where the adapter reads its provider's models.
    assert facts.lists_models == _overrides(adapter, "list_models")
    assert (facts.webhooks != WebhookScheme.NONE) == _overrides(adapter, "webhook_notice")
    assert facts.webhook_secret_from_api == hasattr(adapter, "webhook_secret")
    module_default = getattr(__import__(adapter.__module__, fromlist=["x"]), "DEFAULT_BASE_URL", "")
    assert facts.default_base_url == module_default
    if not facts.default_base_url and not facts.built_in:
        assert facts.base_url_words and facts.base_url_example  # the form says what to give


def test_the_package_and_facts_module_give_the_same_lookup():
    """One home for finding a kind's adapter: generation.providers re-exports facts.py's, which the
    catalog imports without the registry (import-linter)."""
    assert providers.adapter_class is facts_module.adapter_class
    assert providers.facts_for is facts_module.facts_for
    assert facts_module.facts_for("sora") is None


@pytest.mark.django_db
def test_no_shipped_model_declares_continuity_its_adapter_cannot_put_on_the_wire():
    """A catalog row declaring an end frame, likeness references or extension lengths its adapter's facts
    say the wire cannot carry would have the frame dropped silently (or book an extension that fails); the
    shipped rows stay within the facts."""
    shipped = CatalogModel.objects.filter(connection__isnull=True)
    assert shipped.filter(end_frame=True).exists() and shipped.filter(reference_images__gt=0).exists()
    assert shipped.exclude(extend_seconds=[]).exists()
    for model in shipped:
        adapter_facts = facts_module.facts_for(model.kind)
        assert adapter_facts is not None, model.kind
        assert not model.end_frame or adapter_facts.sends_end_frame, (model.kind, model.model_id)
        assert not model.reference_images or adapter_facts.sends_reference_images, (model.kind, model.model_id)
        assert not model.extend_seconds or adapter_facts.extends, (model.kind, model.model_id)


def _kind_literal(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant) and node.value in KINDS:
        return True
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "ConnectionKind":
        return True
    return isinstance(node, (ast.Tuple, ast.List, ast.Set)) and any(_kind_literal(e) for e in node.elts)


def kind_branches(source: str) -> list[int]:
    """Lines comparing something with a connection kind (`kind == "fal"`, `x.kind != ConnectionKind.LOCAL`,
    `provider in ("veo", "runway")`) that no nearby `# kind check: why` comment explains."""
    lines = source.splitlines()
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare) and any(_kind_literal(n) for n in (node.left, *node.comparators)):
            nearby = lines[max(0, node.lineno - 4):node.lineno]
            if not any(MARKER in line for line in nearby):
                found.append(node.lineno)
    return found


def test_the_branch_finder_sees_a_kind_branch_and_its_reason():
    assert kind_branches('if connection.kind == "fal":\n    pass\n') == [1]
    assert kind_branches("ok = kind != ConnectionKind.LOCAL\n") == [1]
    assert kind_branches('if provider in ("veo", "runway"):\n    pass\n') == [1]
    assert kind_branches('# kind check: the built-in connection\nfirst = kind == "local"\n') == []
    assert kind_branches('if character.kind == "person":\n    pass\n') == []


def test_no_module_outside_the_adapters_branches_on_a_connection_kind_without_saying_why():
    offenders = []
    for path in sorted(ROOT.glob("*/**/*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative.split("/")[0] not in ("generation", "projects", "studio_site") or "/migrations/" in relative:
            continue
        if relative in ADAPTERS:
            continue
        offenders += [f"{relative}:{line}" for line in kind_branches(path.read_text())]
    assert offenders == [], "Ask the adapter's facts (generation/providers/base.py: ProviderFacts) instead"


KIND_IN_TEMPLATE = re.compile(r"""\b(kind|provider)\s*(==|!=)\s*["'](%s)["']""" % "|".join(map(re.escape, KINDS)))


def test_no_template_branches_on_a_connection_kind():
    offenders = [f"{path.relative_to(ROOT)}:{number}"
                 for path in sorted((ROOT / "templates").rglob("*.html"))
                 for number, line in enumerate(path.read_text().splitlines(), 1)
                 if KIND_IN_TEMPLATE.search(line) and MARKER not in line]
    assert offenders == [], "Give the page the connection's facts (generation.providers.facts_for)"
