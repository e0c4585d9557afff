from django.apps import AppConfig


class ConventionsConfig(AppConfig):
    name = "backend.conventions"
    label = "conventions"
    verbose_name = "接口约定"

    def ready(self) -> None:
        from . import lookups  # noqa: F401 - registers the `__any` lookup
