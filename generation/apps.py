from django.apps import AppConfig


class GenerationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "generation"
    verbose_name = "Renders and providers"

    def ready(self):
        # Imported here, not at the top: Django loads the models only after every app is configured.
        from generation.events import take_settled
        from generation.spend import budget

        take_settled.connect(budget.on_take_settled, dispatch_uid="generation.spend.budget.on_take_settled")
