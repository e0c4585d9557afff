from django.db import migrations

# School and bureau admins may look at homework in the admin site (read-only; their
# subtree only, see backend/homework/admin.py). A frozen list at the time of writing.
SCHOOL_ADMIN_GROUP = "学校管理员"
VIEW_PERMISSIONS = ["view_assignment", "view_submission", "view_feedback"]


def grant_view(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after all migrations (post_migrate).
    app_config = apps.get_app_config("homework")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0, apps=apps)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=SCHOOL_ADMIN_GROUP)
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="homework", codename__in=VIEW_PERMISSIONS)
    )


def revoke_view(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name=SCHOOL_ADMIN_GROUP).first()
    if group is not None:
        group.permissions.remove(
            *Permission.objects.filter(content_type__app_label="homework", codename__in=VIEW_PERMISSIONS)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("homework", "0001_initial"),
        ("schools", "0002_roster_import_admin_group"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant_view, revoke_view)]
