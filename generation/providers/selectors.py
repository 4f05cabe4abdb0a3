"""Read models of a team's provider connections, for the Providers page and a connection's Models page."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import Prefetch
from django.utils import timezone

from generation.models import (
    CatalogProposal,
    ComfyWorkflow,
    ProposalStatus,
    ProposedChange,
    ProposedChangeKind,
    ProposedChangeState,
    ProviderConnection,
)
from generation.providers import adapter_class, facts_for
from generation.providers.catalog_diff import (
    blocker_words,
    field_changes,
    gone_words,
    needs_words,
    note_words,
)
from generation.providers.catalog_sync import CHECK_AGAIN_AFTER

if TYPE_CHECKING:
    from projects.models import Team



def team_connections(*, team: Team) -> list[ProviderConnection]:
    """The team's connections, each with its models, workflows and `facts`: what its adapter declares
    (None for a kind the studio has no adapter for), so the page never restates a provider's facts."""
    connections = list(ProviderConnection.objects.filter(team=team).prefetch_related(
        "models", Prefetch("workflows", queryset=ComfyWorkflow.objects.defer("graph"))))
    for connection in connections:
        connection.facts = facts_for(connection.kind)
        # Where it calls: its base URL, else its provider's (a Vertex connection's regional endpoint).
        connection.address = (adapter_class(connection.kind).address(base_url=connection.base_url,
                                                                     options=connection.options or {})
                              if connection.facts is not None else connection.base_url)
    return connections


@dataclass(frozen=True)
class ChangeRow:
    """One proposed change, with what the Models page says of it."""

    row: ProposedChange
    changes: list[Any]  # (label, before, after) per field
    needs: list[str]
    blockers: list[str]
    notes: list[str]
    gone_reason: str = ""

    @property
    def acceptable(self) -> bool:
        return not self.blockers and self.row.state == ProposedChangeState.PENDING

    @property
    def listed_price(self) -> str:
        return self.row.proposed.get("price_per_second") or ""


@dataclass(frozen=True)
class ProposalView:
    """A connection's latest check for model changes: where it reads them, and each change it proposes."""

    facts: object
    proposal: CatalogProposal | None
    rows: list[ChangeRow] = field(default_factory=list)

    @property
    def checking(self) -> bool:
        """A check is queued or running (one whose worker died long ago is not: the owner may check again)."""
        proposal = self.proposal
        return (proposal is not None and proposal.status == ProposalStatus.CHECKING
                and proposal.requested_at is not None
                and timezone.now() - proposal.requested_at < CHECK_AGAIN_AFTER)

    @property
    def lost(self) -> bool:
        return self.proposal is not None and self.proposal.status == ProposalStatus.CHECKING and not self.checking

    @property
    def pending(self) -> list[ChangeRow]:
        return [r for r in self.rows if r.row.state == ProposedChangeState.PENDING]


ORDER: dict[str, int] = {ProposedChangeKind.NEW: 0, ProposedChangeKind.CHANGED: 1, ProposedChangeKind.GONE: 2}


def catalog_proposal_for(*, connection: ProviderConnection) -> ProposalView:
    facts = facts_for(connection.kind)
    proposal = CatalogProposal.objects.filter(connection=connection).select_related("requested_by").first()
    if proposal is None:
        return ProposalView(facts=facts, proposal=None)
    provider = str(facts.title) if facts else connection.label
    rows = []
    for row in sorted(proposal.changes.select_related("decided_by"), key=lambda r: (ORDER.get(r.change, 3), r.model_id)):
        rows.append(ChangeRow(
            row=row, changes=field_changes(row.proposed, row.current) if row.change == ProposedChangeKind.CHANGED else [],
            needs=needs_words(row.needs), blockers=[blocker_words(*b) for b in row.blockers],
            notes=note_words(row.notes, provider),
            gone_reason=gone_words(row.notes, provider) if row.change == ProposedChangeKind.GONE else ""))
    return ProposalView(facts=facts, proposal=proposal, rows=rows)
