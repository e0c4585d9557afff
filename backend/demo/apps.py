from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data for `make run` and the tests (`seed_demo`); it spans every app."""

    name = "backend.demo"
    label = "demo"
    verbose_name = "演示数据"
