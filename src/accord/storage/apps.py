"""Django app for Accord's tables."""

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class StorageConfig(AppConfig):
    name = "accord.storage"
    label = "storage"
    verbose_name = "Accord data"

    def ready(self) -> None:
        from accord.storage import roles

        post_migrate.connect(roles.sync_roles, sender=self)
