from django.conf import settings
from django.db import migrations, models


def mark_existing_announced(apps, schema_editor):
    # Check-ins made before this migration were announced one task each: the sweeper
    # must not tell teachers about them again (or about old ones for the first time).
    Checkin = apps.get_model("checkins", "Checkin")
    Checkin.objects.filter(announced_at__isnull=True).update(announced_at=models.F("created_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("checkins", "0002_school_admin_permissions"),
        ("schools", "0002_roster_import_admin_group"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="checkin",
            name="announced_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="通知老师时间"),
        ),
        migrations.RunPython(mark_existing_announced, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="checkin",
            index=models.Index(
                condition=models.Q(("announced_at__isnull", True)),
                fields=["school_class", "id"],
                name="checkin_unannounced",
            ),
        ),
    ]
