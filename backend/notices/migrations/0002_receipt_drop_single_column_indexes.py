"""Receipts: drop the single-column indexes of notice_id and recipient_id.
notice_receipt_unique and receipt_by_notice lead with notice_id and receipt_inbox with
recipient_id, so they only cost writes: one index entry per recipient of every fan-out
(bench/README.md, receipts)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from backend.conventions.migration_ops import drop_redundant_fk_indexes


class Migration(migrations.Migration):
    dependencies = [
        ("notices", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        drop_redundant_fk_indexes(
            table="notices_noticereceipt",
            indexes={
                "notices_noticereceipt_notice_id_5a841768": "notice_id",
                "notices_noticereceipt_recipient_id_43e947ad": "recipient_id",
            },
            state_operations=[
                migrations.AlterField(
                    model_name="noticereceipt",
                    name="notice",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="receipts",
                        to="notices.notice",
                    ),
                ),
                migrations.AlterField(
                    model_name="noticereceipt",
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
