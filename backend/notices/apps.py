from django.apps import AppConfig


class NoticesConfig(AppConfig):
    name = "backend.notices"
    label = "notices"
    verbose_name = "班级通知"

    def ready(self) -> None:
        # Event types and the SMS reply handler are declared at start-up so every process
        # (ASGI, Celery) knows them before the first notice goes out or reply comes in.
        from . import events, replies

        events.register()
        replies.register()
