from django.apps import AppConfig
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
        from generation.models import take_settled
        from projects.review import services as review

        take_settled.connect(review.on_take_settled, dispatch_uid="projects.review.services.on_take_settled")
        post_migrate.connect(create_cache_tables, sender=self, dispatch_uid="projects.create_cache_tables")
