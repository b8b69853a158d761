from django.apps import AppConfig


class KeepwordConfig(AppConfig):
    name = "django_keepword"
    verbose_name = "keepword"
