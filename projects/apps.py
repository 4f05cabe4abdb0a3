from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in
from django.core.management import call_command
from django.db.models.signals import post_migrate


def create_cache_tables(using="default", **kwargs):
    """The database cache's table (the throttles' counters without Redis) comes with every migrate:
    ./studio start, a deploy's migrate step and the test database alike. A no-op for Redis."""
    call_command("createcachetable", database=using, verbosity=0)


class ProjectsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "projects"
    verbose_name = "Teams and storyboards"

    def ready(self):
        # Imported here, not at the top: Django loads the models only after every app is configured.
        from generation.events import take_settled
        from projects.activity import feed
        from projects.teams import language

        take_settled.connect(feed.on_take_settled, dispatch_uid="projects.activity.feed.on_take_settled")
        user_logged_in.connect(language.on_login, dispatch_uid="projects.teams.language.on_login")
        post_migrate.connect(create_cache_tables, sender=self, dispatch_uid="projects.create_cache_tables")
