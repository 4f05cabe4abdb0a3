"""Read model of the projects home: a card per project of the team.

Four queries however many projects, scenes and takes the team has (tests/projects/test_home.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, F, OuterRef, Q, Subquery, Window
from django.db.models.functions import Coalesce, RowNumber

from projects.models import Activity, Project, Scene, Team
from projects.selectors.storyboard import picture_urls

STRIP = 4  # a project's first frames, in board order, on its card


@dataclass
class ProjectCard:
    project: Project
    scenes: int
    approved: int  # scenes with an approved take, as the board's totals count them
    strip: list[str | None] = field(default_factory=list)  # per first scene: its picture, or None
    last_change: Activity | None = None  # the newest entry of its activity feed, with who made it


def projects_home_for(*, team: Team) -> list[ProjectCard]:
    """The team's projects, the most recently changed first."""
    newest = Activity.objects.filter(project=OuterRef("pk")).order_by("-at", "-pk")
    on_board = Q(scenes__trashed_at__isnull=True)
    projects = list(
        Project.objects.filter(team=team)
        .annotate(
            # A scene in the trash is off the board, so off the card (a join does not go through Scene.objects).
            scene_count=Count("scenes", filter=on_board, distinct=True),
            approved_count=Count("scenes", filter=on_board & Q(scenes__approved_take__isnull=False), distinct=True),
            last_activity_id=Subquery(newest.values("pk")[:1]),
            changed_at=Coalesce(Subquery(newest.values("at")[:1]), F("created_at")),
        )
        .order_by("-changed_at", "-pk")
    )
    changes = {a.pk: a for a in Activity.objects.filter(pk__in=[p.last_activity_id for p in projects
                                                                if p.last_activity_id]).select_related("actor")}
    first = list(
        Scene.objects.filter(project__team=team)
        .annotate(rank=Window(RowNumber(), partition_by=[F("project_id")], order_by=[F("position"), F("pk")]))
        .filter(rank__lte=STRIP)
        .only("pk", "project_id", "position", "version", "reference_image", "approved_take_id")
        .order_by("project_id", "position", "pk")
    )
    pictures = picture_urls(first)
    strips: dict[int, list[str | None]] = {}
    for scene in first:
        strips.setdefault(scene.project_id, []).append(pictures.get(scene.pk))
    return [ProjectCard(project=p, scenes=p.scene_count, approved=p.approved_count, strip=strips.get(p.pk, []),
                        last_change=changes.get(p.last_activity_id)) for p in projects]
