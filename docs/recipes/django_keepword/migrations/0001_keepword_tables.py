"""keepword's tables, created by keepword's own Alembic migrations from ``manage.py migrate``."""

from django.db import migrations

from django_keepword import tracking
from keepword.stores.sql import migrate


def upgrade(apps, schema_editor):
    conf = tracking.config()
    if schema_editor.connection.alias == conf["DATABASE"]:
        migrate.upgrade(tracking.database_url(conf["DATABASE"]), table_prefix=conf["TABLE_PREFIX"])


def downgrade(apps, schema_editor):
    conf = tracking.config()
    if schema_editor.connection.alias == conf["DATABASE"]:
        migrate.downgrade(
            tracking.database_url(conf["DATABASE"]),
            table_prefix=conf["TABLE_PREFIX"],
            revision="base",
        )


class Migration(migrations.Migration):
    # keepword's migrations run on their own connection: Django must not hold
    # a transaction open on the same database meanwhile (SQLite would lock).
    atomic = False
    dependencies = []  # noqa: RUF012 - Django's own idiom
    operations = [migrations.RunPython(upgrade, downgrade, atomic=False)]  # noqa: RUF012
