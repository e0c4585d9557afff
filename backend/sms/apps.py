from django.apps import AppConfig


class SmsConfig(AppConfig):
    name = "backend.sms"
    label = "sms"
    verbose_name = "短信平台"

    def ready(self) -> None:
        # Register the realtime event type, and the Celery tasks the services queue by name.
        from . import events, tasks  # noqa: F401

        events.register()
