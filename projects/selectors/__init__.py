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
from projects.selectors.inbox import INBOX_SIZE, Inbox, inbox_for, unread_count
from projects.selectors.review import (
    ACTIVITY_PAGE,
    ActivityCursor,
    ActivityPage,
    Cut,
    CutEntry,
    TakeReview,
    activity_for,
    activity_page,
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
    TrashItem,
    board_for,
    board_frame,
    board_frames,
    board_totals,
    board_view_for,
    scene_dialogue_for,
    scene_panel_for,
    trash_batch_for,
    trash_for,
)
from projects.selectors.teams import TeamMembers, mention_members_for, team_members_for

__all__ = [
    "ACTIVITY_PAGE",
    "INBOX_SIZE",
    "STATUS_LABELS",
    "ActivityCursor",
    "ActivityPage",
    "Board",
    "CastMember",
    "CharacterPage",
    "Cut",
    "CutEntry",
    "Frame",
    "Inbox",
    "ScenePanel",
    "TakeReview",
    "TeamMembers",
    "Totals",
    "TrashItem",
    "activity_for",
    "activity_page",
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
    "mention_members_for",
    "reviewable_takes",
    "scene_dialogue_for",
    "scene_panel_for",
    "take_review_for",
    "trash_batch_for",
    "trash_for",
    "team_members_for",
    "unread_count",
]
