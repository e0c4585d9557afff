from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .phones import mask_phone, normalize_cn_mobile


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(
        self,
        phone: str | None = None,
        password: str | None = None,
        *,
        student_number: str | None = None,
        **extra: Any,
    ) -> User:
        if not phone and not student_number:
            raise ValueError("a user needs a mobile number or a student number")
        user = self.model(
            phone=normalize_cn_mobile(phone) if phone else None,
            student_number=student_number or None,
            **extra,
        )
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, phone: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(phone, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """One person: guardian, student, teacher or admin (roles come from memberships).

    Adults log in with a mobile number; young students may have only a student number."""

    phone = models.CharField("手机号", max_length=11, unique=True, null=True, blank=True)
    student_number = models.CharField("学号", max_length=32, unique=True, null=True, blank=True)
    name = models.CharField("姓名", max_length=64)
    avatar = models.CharField("头像", max_length=255, blank=True)
    is_active = models.BooleanField("启用", default=True)
    is_staff = models.BooleanField("可登录管理后台", default=False)
    date_joined = models.DateTimeField("注册时间", default=timezone.now)
    # Set the first time the person signs in to the app (not the admin); "never logged in"
    # is what makes the delivery pipeline fall back to SMS.
    first_app_login_at = models.DateTimeField("首次登录应用", null=True, blank=True)

    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]

    USERNAME_FIELD = "phone"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = verbose_name
        constraints = [
            models.CheckConstraint(
                condition=Q(phone__isnull=False) | Q(student_number__isnull=False),
                name="user_has_login",
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.phone or self.student_number or f"#{self.pk}"

    @property
    def login(self) -> str:
        return self.phone or self.student_number or ""


class Device(models.Model):
    """An app installation that can receive push (FCM token or a vendor push token)."""

    class Platform(models.TextChoices):
        ANDROID = "android", "Android"
        IOS = "ios", "iOS"
        HARMONY = "harmony", "HarmonyOS"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="devices")
    platform = models.CharField("平台", max_length=16, choices=Platform.choices)
    token = models.CharField("推送令牌", max_length=512, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "设备"
        verbose_name_plural = verbose_name
        indexes = [models.Index(fields=["user"])]

    def __str__(self) -> str:
        return f"{self.user} {self.platform}"


class SmsLoginCode(models.Model):
    """A one-time login code sent by SMS; stored hashed, single use, short-lived."""

    phone = models.CharField(max_length=11, db_index=True)
    code_hash = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    failed_attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = "短信验证码"
        verbose_name_plural = verbose_name

    def __str__(self) -> str:
        return f"{mask_phone(self.phone)} {self.created_at:%Y-%m-%d %H:%M}"
