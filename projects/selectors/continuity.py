"""The scene panel's continuity: what its takes start from and end on now, and whether that moved."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext

from generation.renders.continuity import Source, end_source, start_source
from projects.form_errors import error_text
from projects.models import EndOn, Scene, StartFrom


@dataclass
class ContinuityPanel:
    scene: Scene
    start: Source | None = None
    start_problem: str = ""
    end: Source | None = None
    end_problem: str = ""
    start_changed: bool = False
    end_changed: bool = False
    start_was: str = ""  # what the newest take started from, in words, when that changed
    end_was: str = ""
    rerender_target: str = ""  # "connection:model" of the newest take: what "Re-render" books
    is_first: bool = False
    is_last: bool = False

    @property
    def starts_from_previous(self) -> bool:
        return self.scene.start_from == StartFrom.PREVIOUS

    @property
    def chosen_in_player(self) -> bool:
        return bool(self.scene.start_take_id)

    @property
    def changed(self) -> bool:
        return self.start_changed or self.end_changed


def continuity_panel_for(*, scene: Scene, frame, takes: list, neighbours: tuple[bool, bool]) -> ContinuityPanel:
    """`frame`: the scene's board frame (its change flags, one rule with the board); `takes`: its takes, newest
    first; `neighbours`: whether it has a scene before it and one after it."""
    panel = ContinuityPanel(scene=scene, start_changed=frame.start_changed, end_changed=frame.end_changed,
                            is_first=not neighbours[0], is_last=not neighbours[1])
    for role, resolve in (("start", start_source), ("end", end_source)):
        try:
            setattr(panel, role, resolve(scene))
        except ValidationError as exc:
            setattr(panel, f"{role}_problem", error_text(exc))
    newest = next((t for t in takes if t.status not in ("failed", "canceled")), None)
    if newest is not None:
        panel.start_was = _words((newest.recipe or {}).get("start_frame"), newest) if panel.start_changed else ""
        panel.end_was = _words((newest.recipe or {}).get("end_frame"), newest) if panel.end_changed else ""
        if newest.connection_id:
            panel.rerender_target = f"{newest.connection_id}:{newest.model}"
    return panel


def _words(entry: dict | None, take) -> str:
    if not entry or entry.get("source") != "take":
        return ""
    names = {"take": take.number, "scene": entry["scene"]["number"], "source": entry["take"]["number"],
             "frame": entry["frame"]}
    return gettext("Take %(take)d started from frame %(frame)d of scene %(scene)d, take %(source)d.") % names


__all__ = ["ContinuityPanel", "EndOn", "StartFrom", "continuity_panel_for"]
