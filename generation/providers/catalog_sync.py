"""Check for model changes: what a connection's provider publishes, proposed as changes to the team's catalog.

An owner's **Check for model changes** (the connection's Models page) and the daily beat ask for a check
(`catalog_check_request`); a Celery task reads the provider's listing through the adapter's guarded client
(`catalog_check_run`, never in a request) and stores what differs as the connection's one proposal
(generation/providers/catalog_diff.py says what differs). Nothing in the catalog changes by itself: an owner
accepts rows (`proposed_changes_accept`), all or some, and each accepted change is written to the audit log.
A new model becomes the connection's own entry, at the price the owner confirmed; a change of a shipped
entry makes the team's own copy (as an owner's edit does); a model gone is deprecated with the day it
retires, from which the retirement warnings (generation/renders/retirement.py) take over.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from generation.catalog import (
    catalog_entries,
    catalog_entry_update,
    declaration_problems,
    retired_entries,
    retired_entry_for,
)
from generation.models import (
    CatalogModel,
    CatalogProposal,
    Lifecycle,
    ProposalStatus,
    ProposedChange,
    ProposedChangeKind,
    ProposedChangeState,
    ProviderConnection,
)
from generation.providers import ProviderError, facts_for, provider_for
from generation.providers import tasks as provider_tasks
from generation.providers.catalog_diff import MAX_UNLISTED, Found, blocker_words, diff
from projects.audit import audit_record
from projects.live import ChangeKind, live_publish
from projects.models import AuditAction

if TYPE_CHECKING:
    from django.contrib.auth.models import User


log = logging.getLogger(__name__)
# A model gone from the provider's list is deprecated this many days ahead unless the owner picks another day:
# within the retirement warnings' 30 days, so its owners hear of it at the next daily warning.
GONE_GRACE_DAYS = 14
# A check still "checking" after this long was lost (its worker died): another may be queued.
CHECK_AGAIN_AFTER = datetime.timedelta(minutes=10)
LAST_RETIREMENT_DAY = datetime.date(2100, 1, 1)


def catalog_check_request(*, connection: ProviderConnection, user: User | None = None) -> CatalogProposal:
    """Queue a check of the connection's provider, once: a check already queued is not queued again."""
    facts = facts_for(connection.kind)
    if facts is None or not facts.lists_models:
        raise ValidationError(gettext("%(provider)s publishes no list of its models the studio can read.")
                              % {"provider": facts.title if facts else connection.get_kind_display()})
    CatalogProposal.objects.get_or_create(connection=connection)
    now = timezone.now()
    with transaction.atomic():
        proposal = CatalogProposal.objects.select_for_update().get(connection=connection)
        if (proposal.status == ProposalStatus.CHECKING and proposal.requested_at
                and now - proposal.requested_at < CHECK_AGAIN_AFTER):
            return proposal
        proposal.status, proposal.requested_at, proposal.requested_by = ProposalStatus.CHECKING, now, user
        proposal.save(update_fields=["status", "requested_at", "requested_by"])
        provider_tasks.check_models.delay_on_commit(connection.pk)
    return proposal


def catalog_check_all() -> int:
    """The daily beat: a check of every connection whose provider publishes its models; returns how many."""
    queued = 0
    for connection in ProviderConnection.objects.order_by("pk"):
        facts = facts_for(connection.kind)
        if facts is not None and facts.lists_models:
            catalog_check_request(connection=connection)
            queued += 1
    return queued


def catalog_check_run(connection_id: int) -> None:
    """Read the listing (no transaction is held while the provider answers), then store what differs."""
    connection = ProviderConnection.objects.filter(pk=connection_id).first()
    if connection is None or not CatalogProposal.objects.filter(connection=connection).exists():
        return
    known = tuple(_known_ids(connection))
    try:
        listing = provider_for(connection).list_models(known=known)
    except ProviderError as exc:
        CatalogProposal.objects.filter(connection=connection).update(
            status=ProposalStatus.FAILED, checked_at=timezone.now(), message=exc.message[:500])
        log.info("model check of connection %s failed: %s", connection.pk, exc.code,
                 extra={"connection_id": connection.pk, "team_id": connection.team_id})
    else:
        with transaction.atomic():
            # Locked, and compared with the catalog as it is now: an owner accepting meanwhile waits, and
            # what they accepted is not proposed again.
            proposal = CatalogProposal.objects.select_for_update().get(connection=connection)
            found = diff(connection, listing)
            _store(proposal, found)
            proposal.status, proposal.checked_at, proposal.message = ProposalStatus.READY, timezone.now(), ""
            # Names to register by hand; a retired model under any of its names is never offered.
            retired = retired_entries()
            proposal.unlisted = [m[:200] for m in listing.unlisted[:MAX_UNLISTED]
                                 if retired_entry_for(m, entries=retired) is None]
            proposal.save(update_fields=["status", "checked_at", "message", "unlisted"])
        log.info("model check of connection %s: %d changes", connection.pk, len(found),
                 extra={"connection_id": connection.pk, "team_id": connection.team_id})
    # The owners' Models page shows the result as soon as it is in.
    live_publish(kind=ChangeKind.CATALOG_CHECKED, team_id=connection.team_id, object_id=connection.pk)


def _known_ids(connection: ProviderConnection) -> list[str]:
    """The models the connection offers that still render: the provider is asked about each."""
    return [e.model.model_id for e in catalog_entries(connection) if not e.is_retired]


def _store(proposal: CatalogProposal, found: list[Found]) -> None:
    """The proposal's pending rows become `found`: a row that stays keeps its id (an open page accepts it),
    one whose change differs now is rewritten, one no longer found goes. Accepted rows are the log's now."""
    pending = {row.model_id: row for row in proposal.changes.filter(state=ProposedChangeState.PENDING)}
    proposal.changes.filter(state=ProposedChangeState.ACCEPTED).delete()
    wanted = {f.model_id: f for f in found}
    proposal.changes.filter(state=ProposedChangeState.PENDING).exclude(model_id__in=wanted).delete()
    for model_id, change in wanted.items():
        row = pending.get(model_id) or ProposedChange(proposal=proposal, model_id=model_id)
        if row.pk and row.fingerprint == change.fingerprint:
            continue
        row.change, row.display_name = change.change, change.display_name[:200]
        row.proposed, row.current, row.needs = change.proposed, change.current, list(change.needs)
        row.blockers, row.notes, row.fingerprint = [list(b) for b in change.blockers], change.notes, change.fingerprint
        row.save()


# --- an owner accepts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """What the owner sent for one row: the change they saw, and what its listing left them to give."""

    fingerprint: str
    price: Decimal | None = None
    sizes: list[str] | None = None
    durations: list[int] | None = None
    retire_on: datetime.date | None = None


class AcceptRefused(Exception):
    """Nothing was accepted: `problems` says, per row id, why (the page shows each beside its row)."""

    def __init__(self, problems: dict[int, list[str]]):
        super().__init__("; ".join(p for ps in problems.values() for p in ps))
        self.problems = problems


def proposed_changes_accept(*, connection: ProviderConnection, user: User, decisions: dict[int, Decision]) -> list[ProposedChange]:
    """Apply the rows the owner ticked, all of them or none (a problem in one leaves every row as it was)."""
    problems: dict[int, list[str]] = {}
    with transaction.atomic():
        proposal = CatalogProposal.objects.select_for_update().filter(connection=connection).first()
        rows = {r.pk: r for r in proposal.changes.all()} if proposal else {}
        for pk, decision in decisions.items():
            row = rows.get(pk)
            if row is None:
                problems[pk] = [gettext("This change is no longer proposed: the check ran again. Review the list.")]
            elif row.state != ProposedChangeState.PENDING:
                problems[pk] = [gettext("%(model)s was already accepted.") % {"model": row.display_name}]
            elif row.fingerprint != decision.fingerprint:
                problems[pk] = [gettext("The provider's listing of %(model)s changed since this page was opened: "
                                        "review the row and accept it again.") % {"model": row.display_name}]
            elif found := _row_problems(row, decision):
                problems[pk] = found
        if problems:
            raise AcceptRefused(problems)
        accepted = []
        for pk, decision in decisions.items():
            row = rows[pk]
            try:
                _apply(connection, row, decision, user)
            except (ValidationError, IntegrityError) as exc:
                # Raised out of the transaction: the rows applied before this one are undone with it.
                words = exc.messages if isinstance(exc, ValidationError) else [gettext(
                    "%(model)s is already on %(connection)s.") % {"model": row.model_id, "connection": connection.label}]
                raise AcceptRefused({pk: list(words)}) from exc
            row.state, row.decided_by, row.decided_at = ProposedChangeState.ACCEPTED, user, timezone.now()
            row.save(update_fields=["state", "decided_by", "decided_at"])
            accepted.append(row)
    log.info("accepted %d model changes on connection %s", len(accepted), connection.pk, extra={
        "connection_id": connection.pk, "team_id": connection.team_id, "user_id": getattr(user, "pk", None),
        "changes": [f"{r.change}:{r.model_id}" for r in accepted]})
    return accepted


def _row_problems(row: ProposedChange, decision: Decision) -> list[str]:
    name = row.display_name
    if row.blockers:
        return [gettext("%(model)s cannot be added: %(why)s.") % {
            "model": name, "why": "; ".join(blocker_words(*b) for b in row.blockers)}]
    problems = []
    if row.change == ProposedChangeKind.NEW:
        if decision.price is None:
            problems.append(gettext("Give %(model)s a price per second (US$).") % {"model": name})
        if "sizes" in row.needs and not decision.sizes:
            problems.append(gettext("Give the sizes %(model)s renders, e.g. 1280x720.") % {"model": name})
        if "durations" in row.needs and not decision.durations:
            problems.append(gettext("Give the lengths %(model)s renders, in seconds, e.g. 5, 10.") % {"model": name})
        if retired_entry_for(row.model_id) is not None:
            problems.append(gettext("“%(model)s” is a retired model under another name.") % {"model": row.model_id})
    if row.change == ProposedChangeKind.GONE:
        when = decision.retire_on
        if when is None:
            problems.append(gettext("Give the day %(model)s retires.") % {"model": name})
        elif not timezone.localdate() < when <= LAST_RETIREMENT_DAY:
            problems.append(gettext("%(model)s retires on a day still to come (after today, before 2100).")
                            % {"model": name})
    return problems


def _apply(connection: ProviderConnection, row: ProposedChange, decision: Decision, user: User) -> None:
    facts = facts_for(connection.kind)
    source = {"source": facts.model_listing if facts else ""}
    if row.change == ProposedChangeKind.NEW:
        _add(connection, row, decision, user, source)
    elif row.change == ProposedChangeKind.CHANGED:
        catalog_entry_update(connection=connection, model_id=row.model_id, user=user,
                             audit_action=AuditAction.PROVIDER_CHANGE_ACCEPTED, audit_details=source,
                             **{k: v for k, v in row.proposed.items()})
    else:
        catalog_entry_update(connection=connection, model_id=row.model_id, user=user,
                             audit_action=AuditAction.PROVIDER_CHANGE_ACCEPTED,
                             audit_details={**source, "gone": row.notes.get("reason") or "not listed"},
                             lifecycle=Lifecycle.DEPRECATED, lifecycle_date=decision.retire_on)


def _add(connection: ProviderConnection, row: ProposedChange, decision: Decision, user: User, source: dict[str, Any]) -> None:
    """The new model, as the connection's own entry: what its listing said, and what the owner gave."""
    if decision.price is None:  # _row_problems refuses a new model without its price first
        raise ValueError(f"{row.model_id} would be added without a price")
    fields = dict(row.proposed)
    input_map = fields.pop("input_map", None) or {}
    fields.pop("price_per_second", None)
    fields["sizes"] = fields.get("sizes") or decision.sizes
    fields["durations"] = fields.get("durations") or decision.durations
    notes = gettext("Added from %(source)s on %(day)s.") % {"source": source["source"],
                                                            "day": f"{timezone.localdate():%Y-%m-%d}"}
    model = CatalogModel(kind=connection.kind, connection=connection, model_id=row.model_id,
                         price_per_second={"*": float(decision.price)},
                         input_schema={"wire": input_map} if input_map else {}, notes=notes[:300], **fields)
    if problems := declaration_problems(model):
        raise ValidationError(problems)
    with transaction.atomic():
        model.save()
    audit_record(team=connection.team_id, actor=user, action=AuditAction.MODEL_ADDED_FROM_PROVIDER, target=model,
                 target_label=f"{model.display_name} ({model.model_id}) · {connection.label}",
                 details={**source, "connection": connection.label, "price_per_second": model.price_per_second,
                          "sizes": model.sizes, "durations": model.durations, "input_kinds": model.input_kinds,
                          "has_audio": model.has_audio, "end_frame": model.end_frame,
                          "shot_timing": model.shot_timing})
