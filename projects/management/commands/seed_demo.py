"""First start: a demo team, a demo project with three scenes, and a demo user.

Safe to run on every start: it creates only what is missing and never
overwrites what the user changed.
"""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from projects.models import Membership, Project, Role, Team
from projects.storyboard import services
from projects.teams import services as team_services

DEMO_USERNAME = "demo"
DEMO_SCENES = [
    ("Opening: the harbour at dawn", "A quiet fishing harbour at dawn, mist over the water, gulls circling, "
     "a lone fisherman coils rope on a red boat.", 4, "slow push-in, eye level"),
    ("The storm rolls in", "Dark clouds race over the harbour, waves slap the pier, the fisherman "
     "looks up as the first raindrops hit the deck.", 4, "wide shot, handheld"),
    ("Safe inside", "Inside a warm harbour café, rain streaks the window, the fisherman wraps his "
     "hands around a mug of tea and smiles.", 4, "close-up, rack focus"),
]


def demo_password() -> str:
    path = settings.DATA_DIR / "demo_password"
    if path.exists():
        return path.read_text().strip()
    password = "storyboard-" + secrets.token_hex(4)
    settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
    path.write_text(password)
    path.chmod(0o600)
    return password


class Command(BaseCommand):
    help = "Create the demo team, project and user if they are missing."

    def handle(self, *args, **options):
        User = get_user_model()
        user = User.objects.filter(username=DEMO_USERNAME).first()
        if user is None:
            user = User.objects.create_user(
                DEMO_USERNAME, email="demo@example.com", password=demo_password()
            )
        team = Team.objects.filter(memberships__user=user).first()
        if team is None:
            team = team_services.team_create(name="Demo Studio", owner=user)
        else:
            Membership.objects.get_or_create(team=team, user=user, defaults={"role": Role.OWNER})
        if not Project.objects.filter(team=team).exists():
            project = services.project_create(
                team=team, user=user, name="Harbour Story (demo)",
                description="A three-scene demo storyboard. Render a take with the local previz provider.",
            )
            for title, prompt, duration, camera in DEMO_SCENES:
                services.scene_create(
                    project=project, user=user, title=title, prompt=prompt, duration=duration,
                    size="1280x720", camera_notes=camera,
                )
        self.stdout.write(f"Demo login: username {DEMO_USERNAME}  password {demo_password()}")
