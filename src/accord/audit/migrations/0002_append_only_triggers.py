"""Make the audit log append-only in the database itself, not only in the application."""

from django.db import migrations

from accord.audit import triggers


def install(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        triggers.install(cursor, schema_editor.connection.vendor)


def remove(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        triggers.remove(cursor, schema_editor.connection.vendor)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(install, remove)]
