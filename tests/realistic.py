"""What a real project holds, built fast: for query-count tests and bench/board.py.

`build_project(scenes=N)` makes a team (an owner, an editor, a reviewer and a member who
is also a character), and a project of N scenes, each with `takes_per_scene` finished
takes (every retake linked to the one before through Render.parent), 3 comments per take
(one a reply), a cast of 2 characters with consent who speak 3 lines of dialogue between them
and a harbourmaster, half the scenes approved, a quarter with changes requested, and one take
still rendering. No video is encoded: the takes
point at one small placeholder poster and video saved through the storage once.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from projects.models import Project, Scene

PASSWORD = "correct horse battery staple"
TAKE_COST = Decimal("0.40")


@dataclass
class Built:
    project: Project
    owner: User
    editor: User
    reviewer: User
    scenes: list[Scene]


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 36), (40, 60, 90)).save(out, "PNG")
    return out.getvalue()


def _user(name: str):
    return get_user_model().objects.create_user(username=name, email=f"{name}@example.com", password=PASSWORD)


def build_project(*, scenes: int, takes_per_scene: int = 5, name: str = "Harbour Story", team=None) -> Built:
    """`team`: add the project (and its people) to this team rather than a new one."""
    from generation.models import Render, Status
    from projects.models import (
        Character,
        CharacterKind,
        Comment,
        ConsentGrant,
        Decision,
        DialogueLine,
        FieldKind,
        Membership,
        ProjectField,
        ReviewDecision,
        Role,
        Scene,
    )
    from projects.storyboard import services
    from projects.teams import services as team_services

    tag = uuid.uuid4().hex[:6]
    with transaction.atomic():
        owner = _user(f"owner-{tag}")
        if team is None:
            team = team_services.team_create(name=f"Team {tag}", owner=owner)
        else:
            Membership.objects.create(team=team, user=owner, role=Role.OWNER)
        editor, reviewer, maya = _user(f"editor-{tag}"), _user(f"reviewer-{tag}"), _user(f"maya-{tag}")
        Membership.objects.bulk_create([Membership(team=team, user=editor, role=Role.EDITOR),
                                        Membership(team=team, user=reviewer, role=Role.REVIEWER),
                                        Membership(team=team, user=maya, role=Role.EDITOR)])
        project = services.project_create(team=team, user=owner, name=name)
        # A second project of a team casts the same characters (the library is the team's).
        person = Character.objects.filter(team=team, name="Maya").first()
        if person is None:
            person = Character.objects.create(team=team, name="Maya", kind=CharacterKind.PERSON, person=maya,
                                              created_by=owner)
            ConsentGrant.objects.create(character=person, granted_by=maya)
        fictional = Character.objects.get_or_create(team=team, name="Captain Ahab", defaults={
            "kind": CharacterKind.FICTIONAL, "created_by": owner})[0]
        # The project's own fields, filled on every scene (each frame shows them).
        shot = ProjectField.objects.create(project=project, name="Shot type", kind=FieldKind.CHOICE, position=0,
                                           choices=["Wide", "Medium", "Close-up"])
        lens = ProjectField.objects.create(project=project, name="Lens", kind=FieldKind.TEXT, position=1)
        rows = Scene.objects.bulk_create([
            Scene(project=project, position=i, title=f"Scene {i + 1}", duration=4, size="1280x720",
                  prompt=f"@Maya and @Captain Ahab on the pier, shot {i + 1}: gulls, low sun, rain coming.",
                  camera_notes="slow push-in", updated_by=editor,
                  field_values={shot.key: ("Wide", "Medium", "Close-up")[i % 3], lens.key: "35mm"})
            for i in range(scenes)
        ])
        rows = list(project.scenes.order_by("position"))
        Cast = Scene.cast.through
        Cast.objects.bulk_create([Cast(scene_id=s.pk, character_id=c.pk) for s in rows for c in (person, fictional)])
        DialogueLine.objects.bulk_create([
            DialogueLine(scene=s, position=k, character=who, speaker=who.name if who else "HARBOURMASTER",
                         parenthetical=how, text=text, after_prompt_lines=after, updated_by=editor)
            for s in rows for k, (who, how, text, after) in enumerate((
                (person, "", f"Is that the boat for shot {s.position + 1}?", 1),
                (None, "shouting", "Mind the ropes!", 1),
                (fictional, "", "We sail at noon, whatever the weather.", None)))
        ])

        poster = default_storage.save(f"renders/realistic/{tag}/thumbnail.png", ContentFile(_png()))
        video = default_storage.save(f"renders/realistic/{tag}/video.mp4", ContentFile(b"\0\0\0\x18ftypisom"))
        connection = team.connections.get(kind="local")
        previous: dict[int, Render] = {}
        newest: dict[int, Render] = {}
        for number in range(1, takes_per_scene + 1):
            takes = Render.objects.bulk_create([
                Render(scene=s, parent=previous.get(s.pk), connection=connection, number=number, provider="local",
                       model="previz-animatic-1", status=Status.SUCCEEDED, progress=100, video=video,
                       thumbnail=poster, duration_seconds=4.0, cost=TAKE_COST, created_by=editor,
                       recipe={"prompt": s.prompt, "parameters": {"seconds": 4, "size": "1280x720"}},
                       c2pa_state="trusted", c2pa_summary={"verdict": "Signed by the studio."},
                       finished_at=timezone.now())
                for s in rows
            ])
            previous = {t.scene_id: t for t in takes}
            newest.update(previous)
            tops = Comment.objects.bulk_create([
                Comment(take=t, author=who, body=f"Note {k} on take {number}", at_seconds=k)
                for t in takes for k, who in ((1, reviewer), (2, owner))
            ])
            Comment.objects.bulk_create([
                Comment(take=c.take, parent=c, author=editor, body="Fixed in the next take.")
                for c in tops if c.at_seconds == 1
            ])
        now = timezone.now()
        decisions = []
        for index, scene in enumerate(rows):
            take = newest[scene.pk]
            if index % 2 == 0:
                Scene.objects.filter(pk=scene.pk).update(approved_take=take, approved_by=reviewer, approved_at=now)
                decisions.append(ReviewDecision(scene=scene, take=take, decision=Decision.APPROVED, by=reviewer))
            elif index % 4 == 1:
                decisions.append(ReviewDecision(scene=scene, take=take, decision=Decision.CHANGES_REQUESTED,
                                                by=reviewer, note="Warmer light."))
        ReviewDecision.objects.bulk_create(decisions)
        if rows:  # one take still on its way
            running = newest[rows[-1].pk]
            Render.objects.filter(pk=running.pk).update(status=Status.RUNNING, progress=40, video="", thumbnail="")
        type(project).objects.filter(pk=project.pk).update(render_spend=TAKE_COST * len(rows) * takes_per_scene)
        project.refresh_from_db()
    return Built(project=project, owner=owner, editor=editor, reviewer=reviewer, scenes=rows)


def add_history(built: Built, *, entries: int, before=None) -> None:
    """Feed entries as a project in use collects them, `entries` more, older than `before` (default:
    older than any it has): for each take its start and finish, three comments, and now and then a
    decision or an edit, over the project's scenes in turn, a minute apart."""
    from datetime import timedelta

    from generation.models import Render
    from projects.models import Activity, ActivityKind

    oldest = built.project.activity.order_by("at").values_list("at", flat=True).first()
    at = before or oldest or timezone.now()
    takes = list(Render.objects.filter(scene__project=built.project).order_by("scene__position", "number")
                 .values_list("pk", "scene_id", "number"))
    titles = dict(built.project.scenes.values_list("pk", "title"))
    pattern = [(ActivityKind.RENDER_STARTED, built.editor, "started take {n} of {title} on previz-animatic-1"),
               (ActivityKind.RENDER_FINISHED, None, "take {n} of {title} finished"),
               (ActivityKind.COMMENT, built.reviewer, "commented on {title} take {n}: Note 1"),
               (ActivityKind.COMMENT, built.owner, "commented on {title} take {n}: Note 2"),
               (ActivityKind.COMMENT, built.editor, "replied on {title} take {n}: Fixed in the next take."),
               (ActivityKind.APPROVED, built.reviewer, "approved {title} take {n}"),
               (ActivityKind.SCENE_EDITED, built.editor, "edited {title}: prompt")]
    rows = []
    for index in range(entries):
        take_id, scene_id, number = takes[(index // len(pattern)) % len(takes)]
        kind, actor, text = pattern[index % len(pattern)]
        at -= timedelta(minutes=1)
        rows.append(Activity(project=built.project, kind=kind, actor=actor, actor_name="" if actor else "studio",
                             scene_id=scene_id, take_id=take_id, at=at,
                             text=text.format(n=number, title=titles[scene_id])))
    Activity.objects.bulk_create(rows, batch_size=2000)
