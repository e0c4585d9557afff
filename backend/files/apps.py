from django.apps import AppConfig


class FilesConfig(AppConfig):
    name = "backend.files"
    label = "files"
    verbose_name = "附件"
