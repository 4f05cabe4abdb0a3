"""Read models, one module per domain; each returns querysets or dataclasses with what its page needs.

Import from here (`from projects import selectors; selectors.board_for(...)`): the modules are
an arrangement, the names are the interface.
"""

from projects.selectors.characters import (
    CharacterPage,
    character_page_for,
    characters_with_consent,
    consent_rows,
    likenesses_for,
)
from projects.selectors.home import ProjectCard, projects_home_for
from projects.selectors.inbox import INBOX_SIZE, inbox_for, unread_count
from projects.selectors.review import (
    Cut,
    CutEntry,
    TakeReview,
    activity_for,
    cut_for,
    reviewable_takes,
    take_review_for,
)
from projects.selectors.storyboard import (
    STATUS_LABELS,
    Board,
    CastMember,
    Frame,
    ScenePanel,
    Totals,
    board_for,
    board_frame,
    board_frames,
    board_totals,
    board_view_for,
    mark_changes_requested,
    scene_dialogue_for,
    scene_panel_for,
)
from projects.selectors.teams import TeamMembers, team_members_for

__all__ = [
    "INBOX_SIZE",
    "STATUS_LABELS",
    "Board",
    "CastMember",
    "CharacterPage",
    "Cut",
    "CutEntry",
    "Frame",
    "ProjectCard",
    "ScenePanel",
    "TakeReview",
    "TeamMembers",
    "Totals",
    "activity_for",
    "board_for",
    "board_frame",
    "board_frames",
    "board_totals",
    "board_view_for",
    "character_page_for",
    "characters_with_consent",
    "consent_rows",
    "cut_for",
    "inbox_for",
    "likenesses_for",
    "mark_changes_requested",
    "projects_home_for",
    "reviewable_takes",
    "scene_dialogue_for",
    "scene_panel_for",
    "take_review_for",
    "team_members_for",
    "unread_count",
]
