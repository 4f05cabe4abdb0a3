"""The team's world. One module per concern; everything is importable from here."""

from .audit import AUDIT_AREAS, AppendOnly, AuditAction, AuditEntry  # noqa: F401
from .characters import (  # noqa: F401
    Character,
    CharacterImage,
    CharacterKind,
    ConsentAction,
    ConsentEvent,
    ConsentGrant,
    ConsentScope,
    _character_upload_to,
)
from .fields import FieldKind, ProjectField  # noqa: F401
from .inbox import Notification, NotificationKind  # noqa: F401
from .live import ChangeEvent, ChangeKind, Presence  # noqa: F401
from .review import (  # noqa: F401
    ACTIVITY_FILTER_NAMES,
    ACTIVITY_FILTERS,
    Activity,
    ActivityKind,
    Comment,
    CommentRevision,
    Decision,
    NotificationPreference,
    RenderDigest,
    ReviewDecision,
    ReviewLink,
    ReviewRoom,
    SceneStatus,
    format_timecode,
    hash_token,
)
from .revisions import MAX_REVISION_NAME, BoardRevision, RevisionKind, SceneVersion  # noqa: F401
from .scripts import SCRIPT_IMPORT_LIFETIME, ScriptImport  # noqa: F401
from .sound import LineRecording, PlayAllMix, SoundBed, SoundStatus, SpeakerVoice, SpeechClip  # noqa: F401
from .storyboard import (  # noqa: F401
    MAX_LINE,
    MAX_PARENTHETICAL,
    MAX_SCENE_SECONDS,
    MAX_SPEAKER,
    MIN_SCENE_SECONDS,
    SIZE_CHOICES,
    DialogueLine,
    EndOn,
    Project,
    Scene,
    StartFrom,
    _end_image_upload_to,
    _reference_upload_to,
)
from .teams import (  # noqa: F401
    INVITATION_LIFETIME,
    BoardView,
    BudgetAlert,
    BudgetScope,
    Invitation,
    Membership,
    Role,
    Team,
    UserPreference,
    _invitation_token,
)
