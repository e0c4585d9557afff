"""Demo data of API.md: 河南省 → 洛阳市 → 西工区 → 洛阳市西工区示范小学, two classes of
30 students, their guardians, teachers and admins. Re-running changes nothing."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from backend.accounts.services import device_register, user_ensure
from backend.privacy.services import privacy_demo_consents
from backend.schools.models import ClassMembership, Guardianship, Org, OrgAdmin
from backend.schools.services import (
    class_get_or_create,
    grade_get_or_create,
    guardianship_link,
    membership_set,
    org_admin_grant,
    org_create,
)
from backend.sms.services import sms_demo_accounts

PASSWORD = "demo-pass-2026"
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧"
GIVEN = ["小明", "子涵", "欣怡", "浩然", "梓萱", "宇轩", "一诺", "思远", "雨桐", "俊杰"]
RELATIONS = [
    Guardianship.Relation.MOTHER,
    Guardianship.Relation.FATHER,
    Guardianship.Relation.PATERNAL_GRANDMOTHER,
    Guardianship.Relation.MATERNAL_GRANDMOTHER,
    Guardianship.Relation.PATERNAL_GRANDFATHER,
]

FEMALE = {
    Guardianship.Relation.MOTHER,
    Guardianship.Relation.PATERNAL_GRANDMOTHER,
    Guardianship.Relation.MATERNAL_GRANDMOTHER,
}


def student_name(class_no: int, i: int) -> str:
    return SURNAMES[(i - 1 + class_no * 7) % len(SURNAMES)] + GIVEN[(i - 1 + class_no) % len(GIVEN)]


class Command(BaseCommand):
    help = "写入演示数据（可重复执行）"

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        province = org_create(name="河南省", kind=Org.Kind.PROVINCE)
        city = org_create(name="洛阳市", kind=Org.Kind.CITY, parent=province)
        county = org_create(name="西工区", kind=Org.Kind.COUNTY, parent=city)
        school = org_create(name="洛阳市西工区示范小学", kind=Org.Kind.SCHOOL, parent=county)
        grade = grade_get_or_create(school=school, name="三年级", level=3)
        class1 = class_get_or_create(school=school, grade=grade, name="三年级(1)班")
        class2 = class_get_or_create(school=school, grade=grade, name="三年级(2)班")

        admin, _ = user_ensure(name="刘校长", phone="13800000000", password=PASSWORD)
        org_admin_grant(org=school, user=admin, role=OrgAdmin.Role.SCHOOL_ADMIN)
        bureau, _ = user_ensure(name="西工区教育局 周老师", phone="13800000009", password=PASSWORD)
        org_admin_grant(org=county, user=bureau, role=OrgAdmin.Role.BUREAU_ADMIN)

        head2, _ = user_ensure(name="陈老师", phone="13800000001", password=PASSWORD)
        head1, _ = user_ensure(name="李老师", phone="13800000002", password=PASSWORD)
        membership_set(school_class=class2, user=head2, role="teacher", is_head_teacher=True, subject="语文")
        membership_set(school_class=class1, user=head1, role="teacher", is_head_teacher=True, subject="语文")
        math, _ = user_ensure(name="赵老师", phone="13800000003", password=PASSWORD)
        for school_class in (class1, class2):
            membership_set(school_class=school_class, user=math, role="teacher", subject="数学")

        for class_no, school_class, guardian_prefix in ((1, class1, "137000000"), (2, class2, "139000000")):
            for i in range(1, 31):
                student, _ = user_ensure(
                    name=student_name(class_no, i),
                    student_number=f"S20260{class_no}{i:02d}",
                    password=PASSWORD,
                )
                if not ClassMembership.objects.filter(school_class=school_class, user=student).exists():
                    membership_set(school_class=school_class, user=student, role=ClassMembership.Role.STUDENT)
                relation = RELATIONS[i % len(RELATIONS)]
                guardian, created = user_ensure(
                    name=student.name[0] + ("女士" if relation in FEMALE else "先生"),
                    phone=f"{guardian_prefix}{i:02d}",
                    password=PASSWORD,
                )
                guardianship_link(guardian=guardian, student=student, relation=relation)
                # Guardians 01–20 of class (2) have the app; 21–30 never logged in (SMS only).
                if class_no == 2 and i <= 20 and created:
                    device_register(user=guardian, platform="android", token=f"demo-fcm-token-{i:02d}")
        # SMS: the 西工区 bureau account funds the school's account (idempotent).
        sms_demo_accounts(school=school)
        # The demo families have consented to the processing of their children's data.
        privacy_demo_consents()
        self.stdout.write(self.style.SUCCESS("演示数据已就绪（密码 demo-pass-2026）"))
