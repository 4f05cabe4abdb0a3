"""Which models a team can render with, what they accept, and what they cost.

Lifecycle: a *retired* model no longer renders; a *deprecated* one still does, and its
`lifecycle_date` is the day it is announced to retire (owners are warned 30 days before, see
generation.renders.retirement; an admin marks it retired when it goes). Whatever asks for a
retired or unknown model is refused with one message (`refusal`), naming the team's live models
that fit the scene, cheapest first (`alternatives_for`).

What a take costs is `cost_of`, the one price formula: booking, batches, previews, re-target
plans and alternatives all call it.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext, gettext_lazy

from generation.models import CatalogModel, ConnectionKind, Lifecycle, ProviderConnection
from generation.providers.facts import facts_for
from generation.providers.openai_videos import declared_fields_problems
from projects import money
from projects.audit import audit_record, changes
from projects.inputs import parse_id
from projects.models import AuditAction

log = logging.getLogger(__name__)


def cost_of(model: CatalogModel, *, size: str, seconds: int) -> Decimal:
    """A take of `seconds` at `size` on `model`, in US$: its per-second price times seconds."""
    return model.price_for(size) * int(seconds)


@dataclass(frozen=True)
class Target:
    """One choice in the render form: a team connection and one of its models."""

    connection: ProviderConnection
    model: CatalogModel

    @property
    def value(self) -> str:
        return f"{self.connection.pk}:{self.model.model_id}"

    @property
    def label(self) -> str:
        return f"{self.connection.label} — {self.model.display_name}"

    def estimate(self, *, size: str, seconds: int) -> Decimal:
        return cost_of(self.model, size=size, seconds=seconds)


def connection_ensure_local(team) -> ProviderConnection:
    """The built-in previz provider is always one of a team's connections."""
    connection, _ = ProviderConnection.objects.get_or_create(
        team=team, kind=ConnectionKind.LOCAL, defaults={"label": "Local previz"}
    )
    return connection


def models_for(connection: ProviderConnection):
    """Shipped models of the connection's kind plus the ones registered on it."""
    return CatalogModel.objects.filter(
        Q(connection=connection) | Q(connection__isnull=True, kind=connection.kind)
    )


def available_targets(team) -> list[Target]:
    """The team's (connection, model) pairs that can be booked, previz first.

    Kept on the team instance: a page reads them for its render form and its takes'
    remix buttons, from one team object, in one request.
    """
    if getattr(team, "_available_targets", None) is None:
        team._available_targets = _available_targets(team)
    return team._available_targets


def _available_targets(team) -> list[Target]:
    connection_ensure_local(team)
    connections = list(ProviderConnection.objects.filter(team=team))
    every_shipped = list(CatalogModel.objects.filter(connection__isnull=True))
    retired = retired_entries(every_shipped)
    shipped: dict[str, list[CatalogModel]] = {}
    for model in every_shipped:
        if not model.is_retired:
            shipped.setdefault(model.kind, []).append(model)
    registered: dict[int | None, list[CatalogModel]] = {}
    # Retired rows too: a team's own entry (a copy an owner edited) hides the shipped one of its id.
    for model in CatalogModel.objects.filter(connection__team=team):
        registered.setdefault(model.connection_id, []).append(model)
    targets: list[Target] = []
    for connection in connections:
        own = registered.get(connection.pk, [])
        models = own_wins(own + shipped.get(connection.kind, []))
        targets.extend(Target(connection, m) for m in models if not is_retired(m, entries=retired))
    # The free local previz first: it is what works with no account.
    # kind check: the studio's own built-in connection (connection_ensure_local above makes it), not a
    # provider's fact.
    return sorted(targets, key=lambda t: (t.connection.kind != ConnectionKind.LOCAL, t.label))


def resolve(connection: ProviderConnection | None, model_id: str) -> CatalogModel | None:
    """A model registered on the connection wins over a shipped one of the same id. None for a take whose
    connection was removed: nothing resolves without one."""
    if connection is None:
        return None
    own = CatalogModel.objects.filter(connection=connection, model_id=model_id).first()
    return own or CatalogModel.objects.filter(
        connection__isnull=True, kind=connection.kind, model_id=model_id
    ).first()


def pinned(connection: ProviderConnection, model: CatalogModel | None) -> CatalogModel | None:
    """The newest dated snapshot of an alias (e.g. sora-2 → sora-2-2025-12-08) when the catalog has one
    that still renders, else the model itself: a pinned snapshot renders the same way next month,
    an alias may silently move to a new model."""
    if model is None or model.snapshot_of:
        return model
    # The team's own entry of a snapshot wins over the shipped one of its id, even when it retired it.
    snapshots = [m for m in own_wins(models_for(connection).filter(snapshot_of=model.model_id))
                 if m.lifecycle != Lifecycle.RETIRED]
    # Dated ids (…-2025-10-06) sort by their date.
    return max(snapshots, key=lambda m: m.model_id, default=model)


def own_wins(models) -> list[CatalogModel]:
    """One entry per model id: a row on the connection over the shipped row of the same id."""
    chosen: dict[str, CatalogModel] = {}
    for model in models:
        if model.model_id not in chosen or model.connection_id is not None:
            chosen[model.model_id] = model
    return list(chosen.values())


def policy_refusal(project, model: CatalogModel, *, requested: str = "") -> str | None:
    """Why the project's model policy refuses `model` outright (its allow-list), or None.

    Owners set the policy per project; it holds everyone, owners too, until they change it. An
    allowed alias allows its snapshots, and an allowed snapshot the alias that resolves to it."""
    allowed = project.allowed_models or []
    if not allowed or {model.model_id, model.snapshot_of, requested} & set(allowed):
        return None
    return (f"{project.name}'s model policy doesn't allow {model.display_name} ({model.model_id}). Allowed here: "
            f"{', '.join(allowed)}. An owner can change the policy on the storyboard page.")


def price_refusal(project, model: CatalogModel, *, size: str) -> str | None:
    """Why the project's price ceiling refuses `model` at `size`, or None."""
    ceiling = project.max_price_per_second
    price = model.price_for(size)
    if ceiling is None or price <= ceiling:
        return None
    return (f"{project.name}'s model policy allows at most ${ceiling:.2f} a second; {model.display_name} costs "
            f"${price:.2f} a second at {size}. Choose a cheaper model, or an owner can change the policy on the "
            "storyboard page.")


def retired_q() -> Q:
    """Catalog rows that can no longer render."""
    return Q(lifecycle=Lifecycle.RETIRED)


def id_forms(model_id: str) -> set[str]:
    """The names `model_id` may be another name of, in lower case: as written, without a `:tag`, and
    without each leading `owner/` prefix. Gateways name one model many ways ("openai/sora-2",
    "sora-2:latest", "SORA-2"); a retired id with a slash of its own ("google/veo-3.1") still matches."""
    name = (model_id or "").strip().lower()
    head, colon, tag = name.rpartition(":")
    names = {name, head} if colon and "/" not in tag else {name}
    forms: set[str] = set()
    for each in names:
        parts = each.split("/")
        forms.update("/".join(parts[i:]) for i in range(len(parts)))
    return forms - {""}


def retired_entries(rows=None) -> dict[str, CatalogModel]:
    """The shipped catalog's retired entries by lower-cased id, in one query (the oldest retirement wins).
    `rows`: catalog rows the caller fetched anyway, holding every shipped retired one."""
    entries: dict[str, CatalogModel] = {}
    rows = CatalogModel.objects.filter(retired_q(), connection__isnull=True) if rows is None else rows
    for model in (m for m in rows if m.connection_id is None and m.is_retired):
        known = entries.get(model.model_id.lower())
        entries[model.model_id.lower()] = model if known is None else min(known, model, key=_retired_first)
    return entries


def _retired_first(model: CatalogModel) -> tuple:
    return (model.lifecycle_date is None, model.lifecycle_date or datetime.date.min, model.pk)


def retired_entry_for(model_id: str, *, entries: dict | None = None) -> CatalogModel | None:
    """The shipped entry of a retired model that `model_id` names, under that name or another (see
    `id_forms`), of any kind: a gateway serving "openai/sora-2" forwards to the provider that retired it."""
    entries = retired_entries() if entries is None else entries
    return min((entries[form] for form in id_forms(model_id) if form in entries), key=_retired_first, default=None)


def retirement_of(model: CatalogModel | None, *, entries: dict | None = None) -> CatalogModel | None:
    """The retired entry `model` is, or None while it renders: itself when it is retired; for a model a
    team registered, the shipped retired model it names under another name. Shipped rows are what their
    own lifecycle says: a live "fal-ai/veo3.1" is not a retired "veo3.1" of another provider."""
    if model is None:
        return None
    if model.is_retired:
        return model
    if model.connection_id is None:
        return None
    return retired_entry_for(model.model_id, entries=entries)


def is_retired(model: CatalogModel | None, *, entries: dict | None = None) -> bool:
    """Whether `model` can no longer render (retired, or a retired model registered under another name)."""
    return retirement_of(model, entries=entries) is not None


def fit_problems(model: CatalogModel, scene) -> list[str]:
    """Why `model` cannot render `scene` as it is (size, length, the frames it starts from and ends on);
    empty if it can."""
    return model.problems_for(size=scene.size, seconds=scene.duration) + input_problems(model, scene)


def input_problems(model: CatalogModel, scene) -> list[str]:
    """Whether the model takes what the scene gives: words only, a start frame, an end frame."""
    return frame_problems(model, start=start_needed(scene), end=end_needed(scene))


# What a scene starts from: "" (words only), "image" (its own reference image), "previous" (the last
# frame of the previous scene's take, or a frame chosen in the player). See projects.models.StartFrom.
def start_needed(scene) -> str:
    if getattr(scene, "start_from", "") == "previous":
        return "previous"
    return "image" if scene.reference_image else ""


def end_needed(scene) -> str:
    """ "" or what the scene ends on: "image" (an image) or "next" (the next scene's first frame)."""
    return getattr(scene, "end_on", "") or ""


def frame_problems(model: CatalogModel, *, start: str, end: str) -> list[str]:
    """Why `model` cannot take these frames (the one rule behind refusals, alternatives and re-targets)."""
    name, problems = model.display_name, []
    if start == "image" and not model.start_frame:
        problems.append(gettext("%(model)s does not take a reference image: remove the scene's image first, "
                                "or choose a model that takes one.") % {"model": name})
    elif start == "previous" and not model.start_frame:
        problems.append(gettext("%(model)s does not take a start frame, and this scene starts from a frame of "
                                "the scene before it: start it from its own reference image, or choose a model "
                                "that takes a start frame.") % {"model": name})
    elif not start and "text" not in model.input_kinds and model.start_frame:
        problems.append(gettext("%(model)s animates a start frame: the scene needs a reference image.")
                        % {"model": name})
    if end and not model.end_frame:
        problems.append(gettext("%(model)s does not take an end frame, and this scene ends on one: stop ending "
                                "it on a frame, or choose a model that takes an end frame.") % {"model": name})
    elif end and start not in ("image", "previous"):
        problems.append(gettext("An end frame goes with a start frame (%(model)s moves from one to the other): "
                                "give the scene a reference image, or start it from the scene before.")
                        % {"model": name})
    return problems


@dataclass(frozen=True)
class Alternative:
    """A live target that fits the scenes asked about, and what it would cost for them."""

    target: Target
    cost: Decimal
    name: str

    @property
    def words(self) -> str:
        return f"{self.name} (free)" if not self.cost else f"{self.name} ${self.cost:.2f}"


def alternatives_for(team, *scenes) -> list[Alternative]:
    """The team's live models that can render every one of `scenes` as it is, cheapest first.

    The one rule behind every refusal and the re-target page: a scene with a reference
    image needs image input; its size and length must be ones the model renders.
    """
    fitting = [t for t in available_targets(team) if not any(fit_problems(t.model, s) for s in scenes)]
    costs = {t.value: sum((t.estimate(size=s.size, seconds=s.duration) for s in scenes), Decimal(0))
             for t in fitting}
    # Two connections may serve one model under one name: then say which.
    names = [t.model.display_name for t in fitting]
    alternatives = [
        Alternative(t, costs[t.value], t.model.display_name if names.count(t.model.display_name) == 1
                    else f"{t.model.display_name} on {t.connection.label}")
        for t in fitting
    ]
    return sorted(alternatives, key=lambda a: (a.cost, a.target.model.price_for_any_size, a.name))


def refusal(*, team, connection, model_id: str, model: CatalogModel | None, scenes=()) -> str:
    """Why a retired or unknown model is refused, and which live models fit instead, in one message."""
    retired = retirement_of(model)
    when = f" on {retired.lifecycle_date:%Y-%m-%d}" if retired and retired.lifecycle_date else ""
    if retired is None or model is None:  # retirement_of(None) is None: both say the model is unknown
        head = f"{connection.label} has no model “{model_id}” in the catalog."
    elif retired is model:
        head = f"{retired.display_name} was retired{when}."
    elif retired.lifecycle_date:  # registered under another name ("openai/sora-2")
        head = gettext("“%(model_id)s” is %(name)s, which was retired on %(date)s.") % {
            "model_id": model.model_id, "name": retired.display_name, "date": f"{retired.lifecycle_date:%Y-%m-%d}"}
    else:
        head = gettext("“%(model_id)s” is %(name)s, which was retired.") % {
            "model_id": model.model_id, "name": retired.display_name}
    return f"{head} {alternatives_words(team, *scenes)}"


# Words only a refusal of a retired or unknown model says (pages add a link to move the scene).
ALTERNATIVES_MARKS = ("Models that fit ", "No live model of your team fits ")


def alternatives_words(team, *scenes) -> str:
    """ "Models that fit this scene: Previz animatic (free), Veo 3.1 (Replicate) $3.20." """
    what = "this scene" if len(scenes) == 1 else "these scenes" if scenes else "your team"
    alternatives = alternatives_for(team, *scenes)
    if not alternatives:
        return (f"No live model of your team fits {what} as it is: change its size or length, or add a "
                "provider under Providers.")
    return f"Models that fit {what}: " + ", ".join(a.words for a in alternatives) + "."


def lacking_refusal(*, team, model: CatalogModel, problems: list[str], scenes=()) -> str:
    """What the chosen model lacks, and the team's live models that have it and fit the scenes, in one
    message: the same shape as the refusal of a retired model."""
    return " ".join([*problems, alternatives_words(team, *scenes)])


def declaration_problems(model: CatalogModel) -> list[str]:
    """Why what a catalog row declares cannot be so: incoherent continuity limits, or continuity its
    provider's wire cannot carry (each adapter says what it can put on the wire)."""
    problems = model.capability_problems()
    facts = facts_for(model.kind)
    if facts is None:
        return problems
    if model.end_frame and not facts.sends_end_frame:
        problems.append(gettext("%(provider)s requests carry no end frame: this model cannot declare one.")
                        % {"provider": ConnectionKind(model.kind).label})
    if model.shot_timing and not facts.sends_shots:
        problems.append(gettext("%(provider)s requests carry no shot list: this model cannot declare several "
                                "shots in one take.") % {"provider": ConnectionKind(model.kind).label})
    if model.extend_seconds and not facts.extends:
        problems.append(gettext("%(provider)s cannot extend a take: this model cannot declare extension lengths.")
                        % {"provider": ConnectionKind(model.kind).label})
    if model.reference_images and not facts.sends_reference_images:
        problems.append(gettext("%(provider)s requests carry no likeness reference images: this model cannot "
                                "declare any.") % {"provider": ConnectionKind(model.kind).label})
    return problems


def extension_targets(team, connection_id: int) -> list[Target]:
    """The live models of the connection that extend a take, cheapest first: a take is extended by the provider
    that holds it (an OpenAI-format gateway or Veo extends only a video it made)."""
    targets = [t for t in available_targets(team) if t.connection.pk == connection_id and t.model.can_extend]
    return sorted(targets, key=lambda t: (t.model.price_for_any_size, t.model.display_name))


def lengths_words(lengths) -> str:
    """ "7", "4, 8 or 12", "1–20": a model's lengths in seconds, a run of every second as a span."""
    lengths = sorted(lengths)
    if len(lengths) > 2 and lengths == list(range(lengths[0], lengths[-1] + 1)):
        return f"{lengths[0]}–{lengths[-1]}"
    if len(lengths) > 1:
        return gettext("%(some)s or %(last)s") % {"some": ", ".join(str(s) for s in lengths[:-1]), "last": lengths[-1]}
    return ", ".join(str(s) for s in lengths)


def extension_words(target: Target, *, size: str) -> str:
    """ "Previz animatic: +1–20 s, free" / "Veo 3.1: +7 s, from $2.80" for a refusal naming what extends."""
    lengths = sorted(target.model.extend_seconds)
    span = f"+{lengths_words(lengths)} s"
    cost = cost_of(target.model, size=size, seconds=lengths[0])
    price = gettext("free") if not target.model.price_for(size) else gettext("from $%(cost).2f") % {"cost": cost}
    return f"{target.model.display_name}: {span}, {price}"


def extension_problems(model: CatalogModel, *, team, connection: ProviderConnection, size: str,
                       seconds: int) -> list[str]:
    """Why `model` cannot extend a take of `size` by `seconds` (empty if it can). A model that cannot extend is
    refused with the connection's models that can, as a missing start or end frame is."""
    if not model.can_extend:
        others = [t for t in extension_targets(team, connection.pk) if t.model.pk != model.pk]
        if others:
            where = gettext("Models on %(connection)s that extend takes: %(models)s.") % {
                "connection": connection.label, "models": "; ".join(extension_words(t, size=size) for t in others)}
        else:
            where = gettext("No model on %(connection)s extends takes: render a new take instead.") % {
                "connection": connection.label}
        return [gettext("%(model)s does not extend takes.") % {"model": model.display_name} + " " + where]
    problems = []
    if size not in model.sizes:
        problems.append(gettext("%(model)s renders %(sizes)s, not %(size)s: it cannot extend this take.") % {
            "model": model.display_name, "sizes": ", ".join(model.sizes), "size": size})
    if seconds not in model.extend_seconds:
        problems.append(gettext("%(model)s extends a take by %(lengths)s seconds, not %(seconds)s.") % {
            "model": model.display_name, "lengths": lengths_words(model.extend_seconds), "seconds": seconds})
    return problems


def refusal_for_value(team, value: str, *, scenes=()) -> str:
    """The refusal for a form's "connection:model" value that is not a live target of the team."""
    given_pk, _, model_id = (value or "").partition(":")
    connection_pk = parse_id(given_pk)
    connection = (ProviderConnection.objects.filter(team=team, pk=connection_pk).first()
                  if connection_pk and model_id else None)
    if connection is None:
        return "Choose one of your team's providers and models, then try again."
    return refusal(team=team, connection=connection, model_id=model_id, model=resolve(connection, model_id),
                   scenes=scenes)


def mark_remixable(takes, team) -> None:
    """One query for a page of takes instead of one per take (see Render.can_remix)."""
    pairs = set()
    for target in available_targets(team):
        if target.model.supports_remix:
            pairs.add((target.connection.pk, target.model.model_id))
    for take in takes:
        take._remixable = pairs


# --- The connection page's catalog: what it lists, and an owner's edits -----------------------------

ORIGINS = {"shipped": gettext_lazy("shipped"), "edited": gettext_lazy("edited for this team"),
           "registered": gettext_lazy("registered by this team")}


@dataclass(frozen=True)
class Entry:
    """One model a connection offers, and where its row comes from."""

    model: CatalogModel
    origin: str  # a key of ORIGINS
    # A model the team registered that is a retired one under another name ("openai/sora-2"): that one.
    alias_of: CatalogModel | None = None

    @property
    def is_retired(self) -> bool:
        return self.model.is_retired or self.alias_of is not None

    @property
    def origin_words(self) -> str:
        return str(ORIGINS[self.origin])

    @property
    def price_words(self) -> str:
        """ "$0.40" for one price, "1280x720 $0.05 · 1920x1080 $0.08 · any other $0.08" by size."""
        prices = self.model.price_per_second or {}
        if set(prices) <= {"*"}:
            return _dollars(self.model.price_for_any_size)
        return " · ".join(f"{'any other' if size == '*' else size} {_dollars(Decimal(str(price)))}"
                          for size, price in prices_in_order(self.model))


def prices_in_order(model: CatalogModel) -> list[tuple[str, float]]:
    """A model's prices by size in the order of its sizes, any other size ("*") last. Not the stored
    order: PostgreSQL's jsonb keeps a dict's keys sorted its own way."""
    prices = model.price_per_second or {}
    rank = {size: i for i, size in enumerate(model.sizes or [])}
    return sorted(prices.items(), key=lambda item: (item[0] == "*", rank.get(item[0], len(rank)), item[0]))


def _dollars(price: Decimal) -> str:
    """$0.40, or every decimal of a finer price ($0.0125)."""
    return money.usd(price, 2 if price == price.quantize(Decimal("0.01")) else None)


def catalog_entries(connection: ProviderConnection) -> list[Entry]:
    """The models `connection` offers (shipped and its own, its own winning), live ones first."""
    rows = list(models_for(connection).order_by("display_name", "model_id"))
    shipped_ids = {m.model_id for m in rows if m.connection_id is None}
    retired = retired_entries()
    entries = []
    for model in own_wins(rows):
        origin = "shipped" if model.connection_id is None else "edited" if model.model_id in shipped_ids \
            else "registered"
        same = retirement_of(model, entries=retired)
        entries.append(Entry(model, origin, alias_of=same if same is not None and same is not model else None))
    return sorted(entries, key=lambda e: e.is_retired)


def catalog_entry_for(connection: ProviderConnection, pk) -> CatalogModel | None:
    """The connection's entry with primary key `pk` (shipped of its kind, or its own), else None."""
    pk = parse_id(pk)
    return models_for(connection).filter(pk=pk).first() if pk else None


# Fields an owner may change on an entry from the connection page.
EDITABLE = ("display_name", "sizes", "durations", "input_kinds", "has_audio", "price_per_second", "lifecycle",
            "lifecycle_date", "typical_seconds", "end_frame", "extend_seconds", "extend_returns", "reference_images",
            "shot_timing", "shots_max", "shots_seconds_min", "shots_seconds_max", "shot_min_seconds")


def catalog_entry_update(*, connection: ProviderConnection, model_id: str, user=None,
                         declared: dict | None = None, audit_action: str = AuditAction.CATALOG_EDITED,
                         audit_details: dict | None = None, **fields) -> CatalogModel:
    """An owner edits one model of the connection, for their team only.

    The connection's own row is updated; a shipped row is never changed (every team of that kind
    shares it): the first edit makes the team's own copy on the connection, which `resolve` and the
    render form prefer from then on. `declared`: the OpenAI format's declared fields (characters,
    extra), checked as registration and the admin check them. Takes already booked keep their cost.
    `audit_action`, `audit_details`: how the log names a change that is not an owner's own edit (a change
    of the provider's that they accepted).
    """
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise ValueError(f"Not editable from the page: {', '.join(sorted(unknown))}")
    shipped = catalog_entry_shipped(connection, model_id)
    if shipped and shipped.is_retired and fields.get("lifecycle", Lifecycle.RETIRED) != Lifecycle.RETIRED:
        if shipped.lifecycle_date:
            raise ValidationError(gettext("%(model)s was retired on %(date)s by its provider: it cannot render any "
                                          "more, so it stays retired.") % {
                "model": shipped.display_name, "date": f"{shipped.lifecycle_date:%Y-%m-%d}"})
        raise ValidationError(gettext("%(model)s was retired by its provider: it cannot render any more, so it "
                                      "stays retired.") % {"model": shipped.display_name})
    try:
        with transaction.atomic():
            own = CatalogModel.objects.select_for_update().filter(connection=connection, model_id=model_id).first()
            if own is not None:
                entry = own
            elif shipped is not None:
                entry = _copy_of(shipped, connection)
            else:
                raise ValidationError(gettext("%(connection)s has no model “%(model)s” in the catalog.") % {
                    "connection": connection.label, "model": model_id})
            before = _logged_fields(entry)
            for name, value in fields.items():
                setattr(entry, name, value)
            if declared is not None:  # only for models that declare fields (ProviderFacts.declares_fields)
                entry.input_schema = _with_declared(entry.input_schema, declared)
            if problems := declaration_problems(entry):
                raise ValidationError(problems)
            entry.save()
            changed = changes(before, _logged_fields(entry))
            if changed:
                audit_record(team=connection.team_id, actor=user, action=audit_action, target=entry,
                             target_label=_entry_label(entry, connection),
                             details={"changes": changed, **({"copied_from_shipped": True} if own is None else {}),
                                      **(audit_details or {})})
    except IntegrityError:
        # Another owner made the team's copy at the same moment: theirs is kept, nothing is lost silently.
        raise ValidationError(gettext("Someone else saved %(model)s on %(connection)s at the same time: reload the "
                                      "page and make your change again.") % {
            "model": model_id, "connection": connection.label}) from None
    log.info("catalog entry %s edited", model_id, extra={
        "connection_id": connection.pk, "team_id": connection.team_id, "model": model_id,
        "user_id": getattr(user, "pk", None), "copied_from_shipped": own is None,
        "changed": sorted(fields) + (["input_schema"] if declared is not None else [])})
    return entry


def _logged_fields(entry: CatalogModel) -> dict:
    """What the audit log compares before and after an edit: the editable fields and the declared ones
    (whether native characters go, the constant extra fields the connections page shows)."""
    schema = entry.input_schema or {}
    return {**{name: getattr(entry, name) for name in EDITABLE},
            "native_characters": "characters" in schema, "extra_fields": dict(schema.get("extra") or {}),
            "storyboard_field": schema.get("storyboard", "")}


def _entry_label(entry: CatalogModel, connection: ProviderConnection) -> str:
    return f"{entry.display_name} ({entry.model_id}) · {connection.label}"


def _copy_of(shipped: CatalogModel, connection: ProviderConnection) -> CatalogModel:
    """The team's own row for a shipped model: same id, snapshot alias and schema, on `connection`."""
    copy = CatalogModel.objects.get(pk=shipped.pk)
    copy.pk = copy.id = None
    copy.connection = connection
    return copy


def _with_declared(schema: dict, declared: dict) -> dict:
    """`schema` with its OpenAI-format declared fields replaced by `declared`, checked like registration."""
    kept = {k: v for k, v in (schema or {}).items() if k not in ("characters", "extra", "storyboard")}
    new = {**kept, **({"characters": "id[]"} if declared.get("characters") else {}),
           **({"storyboard": declared["storyboard"]} if declared.get("storyboard") else {}),
           **({"extra": dict(declared["extra"])} if declared.get("extra") else {})}
    problems = declared_fields_problems(new)
    if problems:
        raise ValidationError(problems)
    return new


def catalog_entry_shipped(connection: ProviderConnection, model_id: str) -> CatalogModel | None:
    """The shipped row of `model_id` for the connection's kind (what "Back to the shipped entry" restores)."""
    return CatalogModel.objects.filter(connection__isnull=True, kind=connection.kind, model_id=model_id).first()


def catalog_entry_reset(*, connection: ProviderConnection, model_id: str, user=None) -> CatalogModel:
    """Back to the shipped entry: the team's copy of a shipped model is deleted; returns the shipped row."""
    shipped = catalog_entry_shipped(connection, model_id)
    if shipped is None:
        raise ValidationError(gettext("“%(model)s” was registered by your team: there is no shipped entry to go "
                                      "back to.") % {"model": model_id})
    with transaction.atomic():
        own = CatalogModel.objects.select_for_update().filter(connection=connection, model_id=model_id).first()
        if own is not None:
            audit_record(team=connection.team_id, actor=user, action=AuditAction.CATALOG_RESET, target=own,
                         target_label=_entry_label(shipped, connection),
                         details={"changes": changes(_logged_fields(own), _logged_fields(shipped))})
            own.delete()
    log.info("catalog entry %s reset to shipped", model_id, extra={
        "connection_id": connection.pk, "team_id": connection.team_id, "model": model_id,
        "user_id": getattr(user, "pk", None)})
    return shipped
