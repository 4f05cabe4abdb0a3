"""Which models a team can render with, what they accept, and what they cost."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q

from generation.models import CatalogModel, ConnectionKind, Lifecycle, ProviderConnection


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
        return self.model.price_for(size) * seconds


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
    shipped = {}
    for model in CatalogModel.objects.filter(connection__isnull=True).exclude(lifecycle=Lifecycle.RETIRED):
        shipped.setdefault(model.kind, []).append(model)
    registered = {}
    for model in CatalogModel.objects.filter(connection__team=team).exclude(lifecycle=Lifecycle.RETIRED):
        registered.setdefault(model.connection_id, []).append(model)
    targets = []
    for connection in connections:
        models = registered.get(connection.pk, []) + shipped.get(connection.kind, [])
        targets.extend(Target(connection, m) for m in models)
    # The free local previz first: it is what works with no account.
    return sorted(targets, key=lambda t: (t.connection.kind != ConnectionKind.LOCAL, t.label))


def resolve(connection: ProviderConnection, model_id: str) -> CatalogModel | None:
    """A model registered on the connection wins over a shipped one of the same id."""
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
    snapshots = models_for(connection).filter(snapshot_of=model.model_id).exclude(lifecycle=Lifecycle.RETIRED)
    # Dated ids (…-2025-10-06) sort by their date; a snapshot registered on the connection wins a tie.
    return max(snapshots, key=lambda m: (m.model_id, m.connection_id is not None), default=model)


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


def retirement_message(model: CatalogModel, team) -> str:
    alternatives = [t.label for t in available_targets(team)]
    when = f" on {model.lifecycle_date:%-d %b %Y}" if model.lifecycle_date else ""
    message = f"{model.display_name} ({model.model_id}) was retired{when} and can no longer render."
    if alternatives:
        message += " Live alternatives: " + "; ".join(alternatives) + "."
    return message


def mark_remixable(takes, team) -> None:
    """One query for a page of takes instead of one per take (see Render.can_remix)."""
    pairs = set()
    for target in available_targets(team):
        if target.model.supports_remix:
            pairs.add((target.connection.pk, target.model.model_id))
    for take in takes:
        take._remixable = pairs
