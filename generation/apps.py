from django.apps import AppConfig


class GenerationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "generation"
    verbose_name = "Renders and providers"

    def ready(self):
        from generation import budget
        from generation.models import take_settled

        take_settled.connect(budget.on_take_settled, dispatch_uid="generation.budget.on_take_settled")
