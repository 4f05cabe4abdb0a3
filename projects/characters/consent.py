"""Characters and consent: who may be rendered, where, with which providers, until when.

The person a character depicts is the only one who can grant or revoke. A
revocation quarantines every take that cast them, at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, gettext_noop, ngettext

from generation.models import Render, ShotGroup
from generation.previz.animatic import probe_video, video_container
from generation.storage import frames
from generation.storage.reference import ReferenceError, verified_name
from projects.activity.notifications import notify
from projects.audit import audit_record
from projects.models import (
    AuditAction,
    Character,
    CharacterImage,
    CharacterKind,
    ConsentAction,
    ConsentEvent,
    ConsentGrant,
    ConsentScope,
    LineRecording,
    Membership,
    NotificationKind,
    Scene,
)

MAX_IMAGES = 4
# What a fictional character's declaration states, stored in English in its log and read in each reader's language.
FICTIONAL_STATEMENT = gettext_noop("This character depicts no real person.")


MAX_VIDEO_SECONDS = 20
MAX_VIDEO_BYTES = 100 * 1024 * 1024


def verify_reference_video(upload) -> str:
    """An MP4 or MOV that PyAV can open, at most 20 s long; returns a safe name to store it under."""
    import tempfile
    from pathlib import Path

    if upload.size > MAX_VIDEO_BYTES:
        raise ValidationError(gettext("The reference video is over 100 MB."))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "upload"  # FFmpeg must detect the format from the bytes, not a name
        with path.open("wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
        upload.seek(0)
        try:
            suffix = video_container(path)
            info = probe_video(path)
        except ValueError:  # animatic turns FFmpeg's and PyAV's failures into ValueError
            raise ValidationError(gettext("The reference video is not a playable MP4 or MOV video."))
    if info.duration > MAX_VIDEO_SECONDS + 0.05:
        raise ValidationError(gettext("The reference video lasts %(seconds)s s; the limit is %(limit)s s.") % {
            "seconds": floatformat(info.duration, 1), "limit": MAX_VIDEO_SECONDS})
    return f"reference.{suffix}"


def character_create(*, team, user, name: str, kind: str, description: str = "", person=None,
                     images=(), declares_fictional: bool = False, reference_video=None) -> Character:
    from django.core.files import File

    name = name.strip()
    if not re.fullmatch(r"[\w][\w .'-]{0,79}", name):
        raise ValidationError(gettext("A name uses letters, digits, spaces, dots, apostrophes or dashes."))
    if not 1 <= len(images) <= MAX_IMAGES:
        raise ValidationError(gettext("Add 1 to %(max)d reference images.") % {"max": MAX_IMAGES})
    safe_names = []
    for image in images:
        try:
            safe_names.append(verified_name(image, stem="image"))
        except ReferenceError as exc:
            raise ValidationError(gettext("%(file)s: %(why)s") % {"file": image.name, "why": exc})
    video_name = verify_reference_video(reference_video) if reference_video else None
    if kind == CharacterKind.PERSON:
        if person is None or not Membership.objects.filter(team=team, user=person).exists():
            raise ValidationError(gettext("A real person's character links to their own account in this team."))
    elif kind == CharacterKind.FICTIONAL:
        if not declares_fictional:
            raise ValidationError(gettext("Confirm that this character depicts no real person."))
        person = None
    else:
        raise ValidationError(gettext("Choose whether this is a real person or a fictional character."))
    try:
        with transaction.atomic():
            character = Character.objects.create(team=team, name=name, description=description, kind=kind,
                                                 person=person, created_by=user)
            # Stored under names from what each file is, never what the uploader called it.
            if reference_video and video_name:
                character.reference_video.save(video_name, reference_video)
            for image, safe_name in zip(images, safe_names):
                CharacterImage.objects.create(character=character, image=File(image, name=safe_name))
            if kind == CharacterKind.FICTIONAL:
                ConsentEvent.objects.create(character=character, actor=user, action=ConsentAction.DECLARED_FICTIONAL,
                                            details={"statement": FICTIONAL_STATEMENT})
                audit_record(team=team, actor=user, action=AuditAction.DECLARED_FICTIONAL, target=character,
                             target_label=character.name)
    except IntegrityError:
        raise ValidationError(gettext("Your team already has a character called “%(name)s”.") % {"name": name})
    return character


def _require_person(character: Character, user) -> None:
    if not character.is_person or character.person_id != getattr(user, "pk", None):
        raise PermissionDenied(gettext("Only the person this character depicts can change its consent."))


def consent_grant(*, character: Character, user, scope: str = ConsentScope.TEAM, projects=(), providers=(),
                  expires_at=None, covers_voice: bool = False) -> ConsentGrant:
    _require_person(character, user)
    if not Membership.objects.filter(team=character.team_id, user=user).exists():
        raise PermissionDenied(gettext("You left this team: you can still revoke consent, but not grant it."))
    if scope == ConsentScope.PROJECTS and not projects:
        raise ValidationError(gettext("Choose at least one project, or allow the whole team."))
    if any(p.team_id != character.team_id for p in projects):
        raise ValidationError(gettext("Consent can only cover this team's projects."))
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError(gettext("The expiry date must be in the future."))
    with transaction.atomic():
        previous = character.active_grant()
        if previous is not None:
            ConsentGrant.objects.filter(pk=previous.pk).update(revoked_at=timezone.now())
        grant = ConsentGrant.objects.create(character=character, granted_by=user, scope=scope,
                                            providers=sorted(providers), expires_at=expires_at,
                                            covers_voice=covers_voice)
        grant.projects.set(projects if scope == ConsentScope.PROJECTS else [])
        details = {"scope": scope, "projects": [p.name for p in projects], "providers": sorted(providers),
                   "expires_at": expires_at.isoformat() if expires_at else None, "voice": covers_voice}
        ConsentEvent.objects.create(
            character=character, actor=user,
            action=ConsentAction.CHANGED if previous else ConsentAction.GRANTED, details=details,
        )
        audit_record(team=character.team_id, actor=user, target=character, target_label=character.name,
                     action=AuditAction.CONSENT_CHANGED if previous else AuditAction.CONSENT_GRANTED, details=details)
    return grant


@dataclass(frozen=True)
class ConsentState:
    """Where a character's consent stands at `now`: the one reading that pages and render gates share.

    key: "fictional", "none" (never granted), "revoked", "expired" or "granted"."""

    character: Character
    key: str
    grant: ConsentGrant | None  # the standing (unrevoked) grant, expired or not
    now: datetime

    @property
    def label(self) -> str:
        """The state in the words the character pages show."""
        character, active = self.character, self.grant
        if self.key == "fictional":
            declarations = getattr(character, "declarations", None)  # prefetched by the character pages
            declared = declarations[0].actor if declarations else None
            who = declared or character.created_by
            if who is None:
                return gettext("Fictional — declared by a former user")
            return gettext("Fictional — declared by %(who)s") % {"who": who.get_username()}
        if self.key == "revoked":
            return gettext("Consent revoked")
        if self.key == "none" or active is None:  # "expired" and "granted" always carry their grant
            return gettext("No consent yet")
        if self.key == "expired":
            return gettext("Consent expired on %(date)s") % {"date": _day(active.expires_at)}
        # What the grant covers, each a phrase of its own in a list: where, who renders, the voice, until when.
        if active.scope == ConsentScope.TEAM:
            covers = [gettext("whole team")]
        else:
            count = len(active.projects.all())
            covers = [ngettext("%(count)s project", "%(count)s projects", count) % {"count": count}]
        covers.append(", ".join(active.providers) if active.providers else gettext("all providers"))
        if active.covers_voice:
            covers.append(gettext("recorded voice too"))
        if active.expires_at:
            covers.append(gettext("until %(date)s") % {"date": _day(active.expires_at)})
        return gettext("Consent: granted (%(covers)s)") % {"covers": ", ".join(covers)}


def _day(moment: datetime | None) -> str:
    """A day as the reader's language writes it short: 7 Dec 2026, 7 déc 2026."""
    assert moment is not None, "only a grant that expires has its day written"
    return date_format(timezone.localtime(moment), "j M Y")


def consent_state(character: Character, *, now=None) -> ConsentState:
    """The character's consent now, from its grants (the page's prefetched ones when it fetched them)."""
    now = now or timezone.now()
    if not character.is_person:
        return ConsentState(character, "fictional", None, now)
    if "grants" in getattr(character, "_prefetched_objects_cache", {}):
        grants = list(character.grants.all())  # newest first, fetched with the page's other characters
    else:
        grants = list(character.grants.prefetch_related("projects"))
    active = next((g for g in grants if g.revoked_at is None), None)
    if active is None:
        return ConsentState(character, "revoked" if grants else "none", None, now)
    if active.expires_at and active.expires_at <= now:
        return ConsentState(character, "expired", active, now)
    return ConsentState(character, "granted", active, now)


def consent_problem(character: Character, *, project, provider_kind: str | None, now=None) -> str | None:
    """Why this character may not be rendered here and now, or None when it may.

    `provider_kind=None`: any provider the person allows will do (casting, before a provider is chosen)."""
    state = consent_state(character, now=now)
    active = state.grant
    if state.key == "fictional":
        return None
    if state.key == "revoked":
        return gettext("%(name)s has revoked consent.") % {"name": character.name}
    if state.key == "none" or active is None:  # "expired" and "granted" always carry their grant
        return gettext("%(name)s has not granted consent yet.") % {"name": character.name}
    if state.key == "expired":
        return gettext("%(name)s's consent expired on %(date)s.") % {
            "name": character.name, "date": _day(active.expires_at)}
    if active.scope == ConsentScope.PROJECTS and project.pk not in {p.pk for p in active.projects.all()}:
        return gettext("%(name)s has not consented to appear in “%(project)s”.") % {
            "name": character.name, "project": project.name}
    if provider_kind is not None and active.providers and provider_kind not in active.providers:
        return gettext("%(name)s has not consented to renders with this provider (%(provider)s).") % {
            "name": character.name, "provider": provider_kind}
    return None


def voice_problem(character: Character, *, project=None, now=None) -> str | None:
    """Why the person's recorded voice may not be used (in `project`; None: anywhere their grant allows),
    or None when it may. A fictional character's recordings are nobody's likeness."""
    state = consent_state(character, now=now)
    if state.key == "fictional":
        return None
    if state.key == "granted" and (state.grant is None or not state.grant.covers_voice):
        return gettext("%(name)s has not consented to the use of their recorded voice.") % {"name": character.name}
    if state.key == "granted" and project is None:
        return None
    # Not granted (revoked, expired, never): said before any project is looked at.
    return consent_problem(character, project=project, provider_kind=None, now=now)


def cast_problems(characters, *, project, provider_kind: str) -> list[str]:
    return [p for c in characters if (p := consent_problem(c, project=project, provider_kind=provider_kind))]


def consent_revoke(*, character: Character, user, delete_files: bool = False) -> int:
    """Withdraw consent: quarantine every take that cast the character. Returns how many."""
    _require_person(character, user)
    now = timezone.now()
    with transaction.atomic():
        ConsentGrant.objects.filter(character=character, revoked_at__isnull=True).update(revoked_at=now)
        takes = Render.objects.filter(characters=character)
        reason = f"Consent revoked by {character.name}"
        quarantined = takes.filter(quarantined_at__isnull=True).update(quarantined_at=now, quarantine_reason=reason)
        # Scenes in the trash too: one restored later never shows a withheld take approved.
        Scene.all_objects.filter(approved_take__in=takes).update(approved_take=None, approved_by=None,
                                                                 approved_at=None)
        ConsentEvent.objects.create(character=character, actor=user, action=ConsentAction.REVOKED,
                                    details={"takes_quarantined": quarantined})
        deleted = []
        if delete_files:
            for take in takes.exclude(video="").select_related("scene"):
                deleted.append(take.video.name)
                take.video.delete(save=False)
                take.thumbnail.delete(save=False)
                take.c2pa_ingredient.delete(save=False)  # it holds the take's manifest and recipe
                # Frames taken from it for a next scene's start (or an earlier one's end) show the person too.
                deleted += frames.delete_stored(default_storage, team_id=character.team_id,
                                                project_id=take.scene.project_id, take_id=take.pk)
                Render.objects.filter(pk=take.pk).update(video="", thumbnail="", c2pa_ingredient="",
                                                         c2pa_ingredient_key="")
            # A multi-shot take's whole file shows everyone cast in any of its scenes.
            for group in ShotGroup.objects.filter(parts__in=takes).exclude(video="").distinct():
                deleted.append(group.video.name)
                group.video.delete(save=False)
                ShotGroup.objects.filter(pk=group.pk).update(video="")
            deleted += _delete_recorded_voice(character)
            ConsentEvent.objects.create(character=character, actor=user, action=ConsentAction.FILES_DELETED,
                                        details={"files": deleted, "receipt": f"{len(deleted)} take(s) deleted"})
        # Written by the person, in the team's log even after they left it: owners see why takes are withheld.
        audit_record(team=character.team_id, actor=user, action=AuditAction.CONSENT_REVOKED, target=character,
                     target_label=character.name,
                     details={"takes_withheld": quarantined, "files_deleted": len(deleted)})
        _notify_revocation(character, user, quarantined)
    return quarantined


def _delete_recorded_voice(character: Character) -> list[str]:
    """The person's voice sample and every recording of their lines, on their request."""
    deleted: list[str] = []
    if character.voice_sample.name:
        deleted.append(character.voice_sample.name)
        character.voice_sample.delete(save=False)
        Character.objects.filter(pk=character.pk).update(voice_sample="")
    for recording in LineRecording.objects.filter(character=character):
        for field in (recording.original, recording.audio):
            if field.name:
                deleted.append(field.name)
                field.delete(save=False)
        recording.delete()
    return deleted


def _notify_revocation(character: Character, user, quarantined: int) -> None:
    """Every teammate hears of it in their inbox and by email (no opt-out: it changes what the team
    may show); the emails leave from a worker once the revocation is committed."""
    teammates = [m.user for m in Membership.objects.filter(team=character.team_id).exclude(user=user)
                 .select_related("user")]
    def subject() -> str:
        return gettext("%(name)s revoked consent") % {"name": character.name}

    def body() -> str:
        return ngettext(
            "%(name)s withdrew consent to appear in your team's videos. %(count)d take casting them is withheld: "
            "only team owners and %(name)s can still open it, and it cannot be approved or exported.",
            "%(name)s withdrew consent to appear in your team's videos. %(count)d takes casting them are withheld: "
            "only team owners and %(name)s can still open them, and they cannot be approved or exported.",
            quarantined) % {"name": character.name, "count": quarantined}

    notify(teammates, None, kind=NotificationKind.CONSENT, team_id=character.team_id, subject=subject, body=body,
           path=reverse("projects:character_detail", args=[character.pk]), actor=user)
