from django.apps import AppConfig


class HomeworkConfig(AppConfig):
    name = "backend.homework"
    label = "homework"
    verbose_name = "作业"

    def ready(self) -> None:
        # Event types are declared at start-up so every process (ASGI, Celery) knows
        # them before the first assignment goes out.
        from . import events

        events.register()
