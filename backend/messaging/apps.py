from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "backend.messaging"
    label = "messaging"
    verbose_name = "讨论与私聊"

    def ready(self) -> None:
        # Event types and the SMS reply handler are registered at start-up so every
        # process (ASGI, Celery) knows them before the first message.
        from backend.sms.replies import register_reply_handler

        from . import events
        from .sms_bridge import conversation_sms_reply

        events.register()
        register_reply_handler("*", conversation_sms_reply)
