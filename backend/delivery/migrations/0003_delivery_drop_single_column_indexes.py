"""Deliveries: drop the single-column indexes of dispatch_id and recipient_id.
delivery_unique_recipient leads with dispatch_id and (recipient_id, dispatch_id) with
recipient_id, so they only cost writes: one index entry per recipient of every fan-out
(bench/README.md, receipts)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from backend.conventions.migration_ops import drop_redundant_fk_indexes


class Migration(migrations.Migration):
    dependencies = [
        ("delivery", "0002_push_attempt_drop_message_id"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        drop_redundant_fk_indexes(
            table="delivery_delivery",
            indexes={
                "delivery_delivery_dispatch_id_9bd5664f": "dispatch_id",
                "delivery_delivery_recipient_id_141dfc24": "recipient_id",
            },
            state_operations=[
                migrations.AlterField(
                    model_name="delivery",
                    name="dispatch",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="deliveries",
                        to="delivery.dispatch",
                    ),
                ),
                migrations.AlterField(
                    model_name="delivery",
                    name="recipient",
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
