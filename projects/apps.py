from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "projects"
    verbose_name = "Teams and storyboards"

    def ready(self):
        from generation.models import take_settled
        from projects import review

        take_settled.connect(review.on_take_settled, dispatch_uid="projects.review.on_take_settled")
