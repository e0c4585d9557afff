from django.apps import AppConfig


class CheckinsConfig(AppConfig):
    name = "backend.checkins"
    label = "checkins"
    verbose_name = "习惯打卡"

    def ready(self) -> None:
        # Event types are declared at start-up so every process (ASGI, Celery) knows them
        # before the first check-in is announced.
        from . import events

        events.register()
