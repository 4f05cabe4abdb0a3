"""What a provider publishes, compared with a connection's catalog: the changes an owner may accept.

Pure: it reads the catalog and a listing (generation.providers.base.ModelListing) and changes nothing.
- A model the provider lists that the connection does not offer is **new**, with what its listing says
  (sizes, lengths, what it takes, audio, several shots) and the provider's price when it lists one. What the
  listing does not say the owner gives ("needs a price", "needs sizes"); a required input the studio cannot
  fill makes it one it cannot add (a blocker). Nothing is guessed.
- A model both offer whose listing says otherwise is **changed**: only the fields the listing states.
- A model the connection offers (and that still renders) that the provider no longer lists, or marks
  deprecated, is **gone**: accepting deprecates it with a date, and the retirement warnings take it from there.
- Extension lengths are proposed only where the connection's adapter extends takes (ProviderFacts.extends):
  elsewhere a listing's lengths are read as not said, since a catalog row may declare only what its adapter
  can send (generation.catalog.declaration_problems), and the take card would offer an extension that fails.
  Multi-shot limits likewise only where the adapter sends a shot list (ProviderFacts.sends_shots).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from generation.catalog import catalog_entries, retired_entries, retired_entry_for
from generation.models import CatalogModel, Lifecycle, ProviderConnection, ShotTiming, kinds_words
from generation.providers.base import ListedModel, ModelListing
from generation.providers.facts import facts_for

# The fields a listing may state, compared with the catalog's own. The rest (price, typical job time, notes)
# is the catalog's: a provider's price list is shown to confirm for a new model, never pushed onto an entry.
SHOT_FIELDS = ("shot_timing", "shots_max", "shots_seconds_min", "shots_seconds_max", "shot_min_seconds")
COMPARED = ("sizes", "durations", "input_kinds", "has_audio", "end_frame", "reference_images", "extend_seconds",
            *SHOT_FIELDS)
NO_SHOTS: dict[str, Any] = dict.fromkeys(SHOT_FIELDS)
LABELS = {
    "sizes": _("Sizes"), "durations": _("Seconds"), "input_kinds": _("Takes"), "has_audio": _("Audio"),
    "end_frame": _("End frame"), "reference_images": _("Likeness references"), "extend_seconds": _("Extends by"),
    "shot_timing": _("Several shots"), "shots_max": _("Most shots"), "shots_seconds_min": _("Multi-shot take, shortest"),
    "shots_seconds_max": _("Multi-shot take, longest"), "shot_min_seconds": _("Shortest shot"),
    "lifecycle": _("Lifecycle"), "lifecycle_date": _("Retires on"),
}
UNORDERED = {"sizes", "durations", "input_kinds", "extend_seconds"}  # lists compared as sets
MAX_UNLISTED = 200


@dataclass(frozen=True)
class Found:
    """One change the diff found (a ProposedChange row before it is stored)."""

    change: str  # ProposedChangeKind
    model_id: str
    display_name: str
    proposed: dict[str, Any] = field(default_factory=dict)
    current: dict[str, Any] = field(default_factory=dict)
    needs: tuple[str, ...] = ()
    blockers: tuple[tuple[str, str], ...] = ()
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        """The change as the owner sees it: an owner accepts only what their page showed."""
        text = json.dumps([self.change, self.model_id, self.proposed, self.current, self.needs, self.blockers],
                          sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()


def diff(connection: ProviderConnection, listing: ModelListing) -> list[Found]:
    """The changes between `listing` and what `connection` offers now (its team's entries win)."""
    entries = {e.model.model_id: e for e in catalog_entries(connection)}
    listed = {m.model_id: m for m in listing.models}
    retired = retired_entries()  # read once, whatever the listing's length
    facts = facts_for(connection.kind)
    extends = facts is not None and facts.extends
    sends_shots = facts is not None and facts.sends_shots
    found = []
    for model in listing.models:
        if not extends and model.extend_seconds is not None:
            model = replace(model, extend_seconds=None)
        if not sends_shots and model.shot_timing is not None:
            model = replace(model, **NO_SHOTS,
                            input_map={k: v for k, v in model.input_map.items() if k != "shots"})
        entry = entries.get(model.model_id)
        if entry is None:
            # A deprecated newcomer is no news; a retired model under another name is never offered.
            if not model.deprecated and retired_entry_for(model.model_id, entries=retired) is None:
                found.append(_new(model))
        elif not entry.is_retired and entry.model.lifecycle == Lifecycle.AVAILABLE:
            if model.deprecated:
                found.append(_gone(entry.model, reason="deprecated"))
            elif changed := _changed(entry.model, model):
                found.append(changed)
    for model_id, entry in entries.items():
        if model_id in listed or entry.is_retired or entry.model.lifecycle != Lifecycle.AVAILABLE:
            continue
        found.append(_gone(entry.model, reason=listing.reasons.get(model_id, "")))
    return found


def _new(model: ListedModel) -> Found:
    proposed: dict[str, Any] = {
        "display_name": model.display_name or model.model_id,
        "sizes": list(model.sizes) if model.sizes else None,
        "durations": list(model.durations) if model.durations else None,
        "input_kinds": list(model.input_kinds or ("text",)),
        "has_audio": bool(model.has_audio), "end_frame": bool(model.end_frame),
        "reference_images": model.reference_images or 0, "extend_seconds": list(model.extend_seconds or ()),
        "shot_timing": model.shot_timing or "", "shots_max": model.shots_max,
        "shots_seconds_min": model.shots_seconds_min, "shots_seconds_max": model.shots_seconds_max,
        "shot_min_seconds": model.shot_min_seconds,
        "price_per_second": str(model.price_per_second) if model.price_per_second is not None else None,
        "input_map": dict(model.input_map),
    }
    needs = tuple(name for name, missing in (("sizes", not model.sizes), ("durations", not model.durations),
                                             ("price", model.price_per_second is None)) if missing)
    notes = {k: list(v) for k, v in (("not_sent", model.not_sent), ("unmapped", model.unmapped)) if v}
    return Found("new", model.model_id, proposed["display_name"][:200], proposed=proposed, needs=needs,
                 blockers=tuple((str(c), str(d)) for c, d in model.blockers), notes=notes)


def _value(value: object, name: str) -> object:
    """A catalog value as the diff compares it: lists as sorted sets where order carries no meaning."""
    if name in UNORDERED:
        return sorted(set(value if isinstance(value, (list, tuple, set)) else []), key=str)
    return value


def _changed(entry: CatalogModel, model: ListedModel) -> Found | None:
    proposed, current = {}, {}
    for name in COMPARED:
        listed = getattr(model, name)
        if listed is None:
            continue  # the listing does not say: the entry stays as it is
        listed = list(listed) if isinstance(listed, tuple) else listed
        if _value(listed, name) != _value(getattr(entry, name), name):
            proposed[name], current[name] = listed, getattr(entry, name)
    if not proposed:
        return None
    return Found("changed", entry.model_id, entry.display_name, proposed=proposed, current=current)


def _gone(entry: CatalogModel, *, reason: str) -> Found:
    return Found("gone", entry.model_id, entry.display_name, proposed={"lifecycle": Lifecycle.DEPRECATED},
                 current={"lifecycle": entry.lifecycle}, notes={"reason": reason} if reason else {})


# --- in words, for the Models page -------------------------------------------------------------------

NEEDS = {"price": _("needs a price"), "sizes": _("needs sizes"), "durations": _("needs lengths")}


def blocker_words(code: str, detail: str) -> str:
    if code == "required_input":
        return gettext("unknown input: %(name)s (required, and the studio cannot fill it)") % {"name": detail}
    if code == "ratio_format":
        return gettext("takes no size the studio can send (it offers %(ratios)s)") % {"ratios": detail}
    if code == "no_prompt":
        return gettext("its schema has no prompt input")
    if code == "no_schema":
        return gettext("the provider publishes no input schema for it")
    return gettext("the studio cannot map it (%(code)s)") % {"code": code}


def needs_words(needs: Iterable[str]) -> list[str]:
    return [str(NEEDS[n]) for n in needs if n in NEEDS]


def note_words(notes: dict[str, Any], provider: str) -> list[str]:
    words = []
    if notes.get("not_sent"):
        words.append(gettext("inputs the studio does not send (%(provider)s's defaults apply): %(names)s")
                     % {"provider": provider, "names": ", ".join(notes["not_sent"])})
    if notes.get("unmapped"):
        words.append(gettext("also offers %(values)s, which the studio does not map to a size")
                     % {"values": ", ".join(notes["unmapped"])})
    return words


def gone_words(notes: dict[str, Any], provider: str) -> str:
    reason = notes.get("reason", "")
    if reason == "deprecated":
        return gettext("%(provider)s marks it deprecated") % {"provider": provider}
    if reason:
        return str(reason)
    return gettext("%(provider)s no longer lists it") % {"provider": provider}


def shown(value: object, name: str) -> str:
    """A catalog value as the page shows it."""
    if value is None or value == [] or value == "":
        return "—"
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if name == "shot_timing":
        return str(ShotTiming(value).label) if value in ShotTiming.values else str(value)
    if name == "lifecycle":
        return str(Lifecycle(value).label) if value in Lifecycle.values else str(value)
    if name == "input_kinds" and isinstance(value, (list, tuple)):
        return kinds_words(map(str, value))
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, Decimal):
        return f"${value}"
    return str(value)


def field_changes(proposed: dict[str, Any], current: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(label, before, after) per changed field."""
    return [(str(LABELS.get(name, name)), shown(current.get(name), name), shown(value, name))
            for name, value in proposed.items()]
