"""roster_import: good, bad and repeated files, per-row codes, no half-applied rows."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext, override_settings

from backend.accounts.models import User
from backend.audit.models import AuditRecord
from backend.conventions.errors import ApiError
from backend.schools.models import ClassMembership, Guardianship, RosterImport
from backend.schools.roster import RosterFileError, roster_import

from .conftest import HEADER, csv_bytes, roster_rows, xlsx_bytes


def run(school: Any, admin: Any, content: bytes, name: str = "roster.xlsx", **kwargs: Any) -> RosterImport:
    return roster_import(school=school, uploaded_by=admin, file_name=name, content=content, **kwargs)


def by_row(result: RosterImport) -> dict[int, dict[str, Any]]:
    return {row["row"]: row for row in result.rows}


def test_xlsx_creates_students_classes_guardians_and_audits(world: Any, school: Any, admin_of: Any) -> None:
    content = xlsx_bytes(
        [
            ["王小明", "R0001", "三年级(1)班", "王芳", "妈妈", "13611110001"],
            ["王小明", "R0001", "三年级(1)班", "王强", "爸爸", "13611110002"],
            ["李雷", "R0002", "三年级(2)班", "韩梅", "外婆", "+86 136-1111-0003"],
        ]
    )

    result = run(school, admin_of, content)

    assert result.pk is not None
    assert (result.status, result.file_format, result.total_rows) == ("completed", "xlsx", 3)
    assert (result.created_count, result.updated_count, result.unchanged_count, result.rejected_count) == (
        3,
        0,
        0,
        0,
    )
    assert [(r["row"], r["status"], r["code"]) for r in result.rows] == [
        (2, "created", "student_created"),
        (3, "created", "guardian_linked"),
        (4, "created", "student_created"),
    ]
    assert "关联家长（王小明爸爸）" in result.rows[1]["message"]
    xiaoming = User.objects.get(student_number="R0001")
    assert xiaoming.name == "王小明"
    assert not xiaoming.has_usable_password()
    assert list(ClassMembership.objects.filter(user=xiaoming).values_list("school_class__name", "role")) == [
        ("三年级(1)班", "student")
    ]
    assert sorted(
        Guardianship.objects.filter(student=xiaoming).values_list("guardian__phone", "relation")
    ) == [
        ("13611110001", "母亲"),
        ("13611110002", "父亲"),
    ]
    assert Guardianship.objects.get(guardian__phone="13611110003").relation == "外婆"
    audit = AuditRecord.objects.get(action="roster.imported")
    assert audit.actor == admin_of
    assert audit.object_id == str(result.pk)
    assert audit.detail == {
        "school_id": school.pk,
        "file_name": "roster.xlsx",
        "total_rows": 3,
        "created": 3,
        "updated": 0,
        "unchanged": 0,
        "rejected": 0,
    }


def test_reimporting_the_same_file_changes_nothing(world: Any, school: Any, admin_of: Any) -> None:
    content = xlsx_bytes(roster_rows(30))
    run(school, admin_of, content)
    users = User.objects.count()
    memberships = ClassMembership.objects.count()
    links = Guardianship.objects.count()

    # Reads are a handful of bulk queries; an unchanged row writes nothing at all, so the
    # only writes are the import record and its audit record.
    with CaptureQueriesContext(connection) as queries:
        again = run(school, admin_of, content)

    assert again.status == "completed"
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 30)
    assert {row["code"] for row in again.rows} == {"no_change"}
    writes = [q["sql"] for q in queries if q["sql"].split()[0].upper() in {"INSERT", "UPDATE", "DELETE"}]
    assert len(writes) == 2
    assert len(queries) <= 12
    assert (User.objects.count(), ClassMembership.objects.count(), Guardianship.objects.count()) == (
        users,
        memberships,
        links,
    )


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_in_utf8_and_gbk(world: Any, school: Any, admin_of: Any, encoding: str) -> None:
    content = csv_bytes(
        [["张伟", "R0100", "三年级（2）班", "张丽", "姥姥", "13622220001"]], encoding=encoding
    )

    result = run(school, admin_of, content, name="花名册.csv")

    assert (result.file_format, result.status) == ("csv", "completed")
    assert result.encoding == ("gb18030" if encoding.startswith("gb") else "utf-8")
    student = User.objects.get(student_number="R0100")
    assert student.name == "张伟"
    assert ClassMembership.objects.get(user=student).school_class == world.classes[1]
    assert Guardianship.objects.get(student=student).relation == "外婆"


def test_english_headers_any_order_blank_rows_and_numeric_cells(
    world: Any, school: Any, admin_of: Any
) -> None:
    header = ["phone", "Relation", "class", "student_number", "guardian_name", "Student Name", "备注"]
    content = xlsx_bytes(
        [
            [13633330001, "mother", "三年级(1)班", 20260001.0, "赵敏", "赵小宝", "任意备注"],
            [None, None, None, None, None, None, None],
            ["", "", "", "", "", "", ""],
            [13633330002, "父亲", "三年级(1)班", 20260002, "钱多", "钱小多", None],
        ],
        header=header,
    )

    result = run(school, admin_of, content)

    assert [(r["row"], r["status"]) for r in result.rows] == [(2, "created"), (5, "created")]
    assert User.objects.get(student_number="20260001").name == "赵小宝"
    assert Guardianship.objects.get(guardian__phone="13633330002").student.student_number == "20260002"


def test_student_without_guardian_columns_filled(world: Any, school: Any, admin_of: Any) -> None:
    content = csv_bytes([["孙悟空", "R0200", "三年级(1)班", "", "", ""]])

    result = run(school, admin_of, content, name="r.csv")

    assert result.rows[0]["status"] == "created"
    student = User.objects.get(student_number="R0200")
    assert not Guardianship.objects.filter(student=student).exists()


def test_each_bad_row_gets_its_code_and_writes_nothing(world: Any, school: Any, admin_of: Any) -> None:
    other_school_student = world.students[2][0]  # a student of the other school
    kid_with_phone, _ = User.objects.get_or_create(
        student_number="R0999", defaults={"name": "有手机的学生", "phone": "13699990000"}
    )
    inactive = User.objects.create_user("13699990001", name="停用家长", is_active=False)
    existing = world.students[0][0]
    rows = [
        ["新生甲", "R0300", "三年级(1)班", "家长甲", "母亲", "12345"],  # 2
        ["新生乙", "R0301", "三年级(9)班", "家长乙", "母亲", "13640000002"],  # 3
        ["新生丙", "R0302", "三年级(1)班", "家长丙", "舅舅", "13640000003"],  # 4
        ["新生丁", "R0303", "三年级(1)班", "家长丁", "母亲", "13640000004"],  # 5
        ["新生丁", "R0303", "三年级(1)班", "家长丁", "母亲", "13640000004"],  # 6 duplicate
        ["", "R0304", "三年级(1)班", "家长戊", "母亲", "13640000005"],  # 7
        ["新生己", "R0305", "三年级(1)班", "家长己", "", ""],  # 8 guardian half-filled
        ["外校生", other_school_student.student_number, "三年级(1)班", "家长", "母亲", "13640000007"],  # 9
        ["新生庚", "R0306", "三年级(1)班", "家长庚", "母亲", "13699990000"],  # 10
        ["改名了", existing.student_number, "三年级(1)班", "家长", "母亲", "13640000009"],  # 11
        ["新生丁", "R0303", "三年级(2)班", "家长丁2", "父亲", "13640000010"],  # 12
        ["手机学号", "13640000011", "三年级(1)班", "家长", "母亲", "13640000012"],  # 13
        ["长" * 65, "R0307", "三年级(1)班", "家长", "母亲", "13640000013"],  # 14
        ["新生辛", "R0308", "三年级(1)班", "停用家长", "母亲", "13699990001"],  # 15
        ["新生壬", "R" * 33, "三年级(1)班", "家长", "母亲", "13640000015"],  # 16
    ]
    users_before = User.objects.count()

    result = run(school, admin_of, csv_bytes(rows), name="bad.csv")

    codes = {row: r["code"] for row, r in by_row(result).items() if r["status"] == "rejected"}
    assert codes == {
        2: "invalid_phone",
        3: "unknown_class",
        4: "unknown_relation",
        6: "duplicate_row",
        7: "missing_field",
        8: "missing_field",
        9: "student_number_conflict",
        10: "phone_is_student",
        11: "student_name_mismatch",
        12: "inconsistent_student",
        13: "invalid_student_number",
        14: "field_too_long",
        15: "account_inactive",
        16: "field_too_long",
    }
    assert by_row(result)[5]["status"] == "created"
    assert result.status == "partial"
    assert (result.created_count, result.rejected_count) == (1, 14)
    assert "第 5 行" in by_row(result)[6]["message"]
    assert by_row(result)[8]["message"] == "缺少必填项：关系、手机号"
    # Only row 5 wrote anything: one student and one guardian.
    assert User.objects.count() == users_before + 2
    for number in ("R0300", "R0301", "R0302", "R0304", "R0305", "R0306", "R0307", "R0308"):
        assert not User.objects.filter(student_number=number).exists()
    assert not User.objects.filter(phone__in=["13640000002", "13640000003", "13640000007"]).exists()
    assert not Guardianship.objects.filter(guardian=inactive).exists()
    assert not Guardianship.objects.filter(guardian=kid_with_phone).exists()
    assert User.objects.get(pk=existing.pk).name == existing.name
    assert not ClassMembership.objects.filter(user=other_school_student, school_class__school=school).exists()


def test_moves_a_student_and_corrects_a_relation(world: Any, school: Any, admin_of: Any) -> None:
    student = world.students[0][0]
    guardian = world.guardians[0][0]
    content = xlsx_bytes(
        [
            [student.name, student.student_number, "三年级(2)班", guardian.name, "父亲", guardian.phone],
            [student.name, student.student_number, "三年级(2)班", "新爸爸", "父亲", "13650000001"],
            [
                world.students[0][1].name,
                world.students[0][1].student_number,
                "三年级(1)班",
                world.guardians[0][1].name,
                "妈妈",
                world.guardians[0][1].phone,
            ],
        ]
    )

    result = run(school, admin_of, content)

    rows = by_row(result)
    assert (rows[2]["status"], rows[2]["code"]) == ("updated", "class_changed")
    assert rows[2]["message"] == "调班：三年级(1)班 → 三年级(2)班；关系更正为父亲（学生010爸爸）"
    assert (rows[3]["status"], rows[3]["code"]) == ("created", "guardian_linked")
    assert rows[3]["message"] == "新增家长账户；关联家长（学生010爸爸）"
    assert (rows[4]["status"], rows[4]["code"]) == ("unchanged", "no_change")
    assert list(ClassMembership.objects.filter(user=student).values_list("school_class", flat=True)) == [
        world.classes[1].pk
    ]
    assert Guardianship.objects.get(student=student, guardian=guardian).relation == "父亲"
    assert Guardianship.objects.filter(student=student).count() == 2


def test_guardian_may_be_a_teacher_and_a_parent_of_several_children(
    world: Any, school: Any, admin_of: Any
) -> None:
    teacher = world.teachers[1]
    content = csv_bytes(
        [
            ["大宝", "R0400", "三年级(1)班", "老师本人", "父亲", teacher.phone],
            ["二宝", "R0401", "三年级(2)班", "老师本人", "父亲", teacher.phone],
        ]
    )

    result = run(school, admin_of, content, name="r.csv")

    assert [r["status"] for r in result.rows] == ["created", "created"]
    assert Guardianship.objects.filter(guardian=teacher).count() == 2
    assert User.objects.get(pk=teacher.pk).name == teacher.name  # an adult's name is theirs


def test_a_row_failing_at_write_time_leaves_nothing_behind(
    world: Any, school: Any, admin_of: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_create = Guardianship.objects.create

    def create(**kwargs: Any) -> Any:
        if kwargs["guardian"].phone == "13660000002":
            raise IntegrityError("simulated concurrent insert")
        return real_create(**kwargs)

    monkeypatch.setattr(Guardianship.objects, "create", create)
    content = csv_bytes(
        [
            ["甲", "R0500", "三年级(1)班", "家长甲", "母亲", "13660000001"],
            ["乙", "R0501", "三年级(1)班", "家长乙", "母亲", "13660000002"],
            ["乙", "R0501", "三年级(1)班", "家长乙2", "父亲", "13660000003"],
            ["丙", "R0502", "三年级(1)班", "家长丙", "母亲", "13660000004"],
        ]
    )

    result = run(school, admin_of, content, name="r.csv")

    assert [(r["status"], r["code"]) for r in result.rows] == [
        ("created", "student_created"),
        ("rejected", "conflict"),
        ("rejected", "conflict"),
        ("created", "student_created"),
    ]
    # The student and guardian created inside the failed row's savepoint are gone too.
    assert not User.objects.filter(student_number="R0501").exists()
    assert not User.objects.filter(phone__in=["13660000002", "13660000003"]).exists()
    assert User.objects.filter(student_number__in=["R0500", "R0502"]).count() == 2


def test_dry_run_reports_and_writes_nothing(world: Any, school: Any, admin_of: Any) -> None:
    content = xlsx_bytes(roster_rows(5) + [["坏", "R9", "不存在班", "x", "母亲", "13670000000"]])
    users = User.objects.count()
    audits = AuditRecord.objects.count()

    preview = run(school, admin_of, content, dry_run=True)

    assert preview.pk is None
    assert preview.status == "preview"
    assert (preview.created_count, preview.rejected_count) == (5, 1)
    assert preview.rows[-1]["code"] == "unknown_class"
    assert User.objects.count() == users
    assert RosterImport.objects.count() == 0
    assert AuditRecord.objects.count() == audits


def test_query_count_grows_linearly_with_a_small_constant(world: Any, school: Any, admin_of: Any) -> None:
    def count(rows: list[list[str]]) -> int:
        with CaptureQueriesContext(connection) as queries:
            run(school, admin_of, csv_bytes(rows), name="r.csv")
        return len(queries)

    small = count(roster_rows(10))
    large = count(roster_rows(50, start=10))

    # A new student with a new guardian: savepoint, 2 × user_ensure (lookup + insert),
    # membership, guardianship, release = 8 queries per row; reads are done in bulk.
    assert (large - small) / 40 <= 10
    assert small <= 10 * 10 + 15


@pytest.mark.slow
def test_a_thousand_rows(world: Any, school: Any, admin_of: Any, django_assert_max_num_queries: Any) -> None:
    content = xlsx_bytes(roster_rows(500) + roster_rows(500, class_name="三年级(2)班", start=500))

    with django_assert_max_num_queries(1000 * 10 + 30):
        result = run(school, admin_of, content)

    assert (result.created_count, result.rejected_count) == (1000, 0)
    assert ClassMembership.objects.filter(school_class=world.classes[1], role="student").count() == 503
    # Bulk reads go in chunks of 900 ids: 2 chunks each for numbers, phones, guardianships,
    # 3 for the memberships of 2,000 people, plus the constant ones.
    with django_assert_max_num_queries(16):
        again = run(school, admin_of, content)
    assert again.unchanged_count == 1000


def _garbage_zip() -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<xml/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "empty_file"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "unsupported_format"),
        (b"%PDF-1.4 whatever", "unsupported_format"),
        (b"\x00\x01\x02binary\x00", "unsupported_format"),
        (b"PK\x03\x04 this is not really a zip", "invalid_file"),
        (_garbage_zip(), "unsupported_format"),
        ("姓名,电话\n张三,13800000000\n".encode(), "missing_columns"),
        (",".join(HEADER).encode(), "empty_file"),
        (b"\n\n \n", "empty_file"),
        (",".join(HEADER + ["学号"]).encode() + b"\n1,2,3,4,5,6,7\n", "duplicate_columns"),
    ],
)
def test_broken_files_are_refused_whole(
    world: Any, school: Any, admin_of: Any, content: bytes, code: str
) -> None:
    users = User.objects.count()
    with pytest.raises(RosterFileError) as excinfo:
        run(school, admin_of, content, name="x.csv")
    assert excinfo.value.code == code
    assert excinfo.value.status_code == 400
    assert RosterImport.objects.count() == 0
    assert User.objects.count() == users
    assert not AuditRecord.objects.filter(action="roster.imported").exists()


def test_missing_columns_are_named(world: Any, school: Any, admin_of: Any) -> None:
    content = csv_bytes([["a", "b", "c"]], header=["学生姓名", "学号", "班级"])
    with pytest.raises(RosterFileError) as excinfo:
        run(school, admin_of, content, name="x.csv")
    assert excinfo.value.fields["columns"] == ["家长姓名", "关系", "手机号"]
    assert "缺少必需的列：家长姓名、关系、手机号" in excinfo.value.message


def test_too_many_rows_and_too_large(world: Any, school: Any, admin_of: Any) -> None:
    with pytest.raises(RosterFileError) as excinfo:
        run(school, admin_of, csv_bytes(roster_rows(5001)), name="x.csv")
    assert excinfo.value.code == "too_many_rows"
    with override_settings(ROSTER_IMPORT_MAX_BYTES=200), pytest.raises(RosterFileError) as excinfo:
        run(school, admin_of, csv_bytes(roster_rows(10)), name="x.csv")
    assert excinfo.value.code == "file_too_large"
    assert RosterImport.objects.count() == 0
    assert not User.objects.filter(student_number="R00000").exists()


def test_only_schools_take_rosters(world: Any, admin_of: Any) -> None:
    with pytest.raises(ApiError) as excinfo:
        run(world.counties[0], admin_of, csv_bytes(roster_rows(1)), name="x.csv")
    assert excinfo.value.code == "not_a_school"
