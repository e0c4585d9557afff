from django.apps import AppConfig


class ConventionsConfig(AppConfig):
    name = "backend.conventions"
    label = "conventions"
    verbose_name = "接口约定"
