from django.apps import AppConfig


class SmsConfig(AppConfig):
    name = "backend.sms"
    label = "sms"
    verbose_name = "短信平台"
