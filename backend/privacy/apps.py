from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "backend.privacy"
    label = "privacy"
    verbose_name = "未成年人信息保护"
