"""Event counters: leave half of each PostgreSQL page free (fillfactor 50).

Every event bumps one counter row per recipient. With full pages PostgreSQL had to put
the new row version on another page and add a primary-key entry for it (a 5,000-family
notice: ~4,800 such updates and ~0.9 MB of index WAL, bench/README.md "receipts"); with
room on the page the update is HOT (heap only, no index entry) and later updates prune
the dead versions in place. New pages only: an existing database gets it for its old
rows after `VACUUM FULL realtime_usereventcounter` (or pg_repack) in a quiet hour.
SQLite has no such setting; nothing to do there."""

from django.db import migrations


def _set_fillfactor(percent: int):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            table = schema_editor.quote_name(apps.get_model("realtime", "UserEventCounter")._meta.db_table)
            schema_editor.execute(f"ALTER TABLE {table} SET (fillfactor = {percent})")

    return run


class Migration(migrations.Migration):
    dependencies = [("realtime", "0003_userevent_no_fk_check")]

    operations = [migrations.RunPython(_set_fillfactor(50), _set_fillfactor(100), elidable=False)]
