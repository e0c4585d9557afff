"""Event log: drop the single-column index of user_id. realtime_event_user_seq_unique
leads with user_id, so it only costs writes: one index entry per recipient of every
fan-out (bench/README.md, receipts)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from backend.conventions.migration_ops import drop_redundant_fk_indexes


class Migration(migrations.Migration):
    dependencies = [
        ("realtime", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        drop_redundant_fk_indexes(
            table="realtime_userevent",
            indexes={"realtime_userevent_user_id_312ee84d": "user_id"},
            state_operations=[
                migrations.AlterField(
                    model_name="userevent",
                    name="user",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
        ),
    ]
