"""The sensitive-word filter: blocked and masked variants, a benign corpus that passes
untouched, students' phone and ID numbers, held messages and the school's own list."""

from __future__ import annotations

import pytest

from backend.messaging.moderation import moderate_text
from backend.messaging.moderation.filtering import default_words

from .conftest import events

WORDS = default_words()

MASKED_VARIANTS = [
    "你真是个傻逼",
    "你真是个傻b",
    "你真是个傻 B",
    "你真是个傻．逼",
    "你真是个ｓｈａ傻１逼",
    "他妈的怎么还不放学",
    "他 妈 的怎么还不放学",
    "草-泥-马",
    "你这个脑残",
    "你这个脑1残",
]

BLOCKED_VARIANTS = [
    "再说我就杀了你",
    "再说我就杀 了 你",
    "再说我就殺了你",
    "再说我就杀、了、你",
    "扫码加入兼职刷单，日赚三百",
    "兼 职 刷 单",
    "带刀来学校",
    "网络赌博稳赚",
    "网络賭博稳赚",
]

BENIGN = [
    "今天的数学作业是练习册第12页，明天交。",
    "下周三下午两点在学校礼堂开家长会，请准时参加。",
    "期中考试成绩已经发到家长群了吗？",
    "孩子今天发烧了，想请假一天，谢谢老师！",
    "比赛很精彩，同学们表现都很棒👍",
    "请家长督促孩子背诵《静夜思》。",
    "USB 接口的 U 盘可以带到电脑课上吗？",
    "明天春游，记得带水杯和帽子。",
    "老师辛苦了，孩子最近进步很大。",
    "英语听写 Unit 3 单词，共 20 个。",
    "收到",
    "好的，谢谢！",
    "过去的错题要再做一遍。",
    "学校对面的文具店8点开门",
]


@pytest.mark.parametrize("text", MASKED_VARIANTS)
def test_masked_variants_are_masked(text):
    verdict = moderate_text(text, words=WORDS)

    assert not verdict.held
    assert verdict.body != text
    assert "＊" in verdict.body
    assert {h["policy"] for h in verdict.hits} == {"mask"}


@pytest.mark.parametrize("text", BLOCKED_VARIANTS)
def test_blocked_variants_are_held(text):
    verdict = moderate_text(text, words=WORDS)

    assert verdict.held
    assert verdict.body == text  # held as typed, for review


@pytest.mark.parametrize("text", BENIGN)
def test_ordinary_school_chat_passes_untouched(text):
    verdict = moderate_text(text, words=WORDS, mask_numbers=True)

    assert verdict.body == text
    assert verdict.hits == []
    assert not verdict.held


def test_mask_covers_what_was_typed_between_the_characters():
    assert moderate_text("你是傻 . 逼吗", words=WORDS).body == "你是＊＊＊＊＊吗"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我妈电话13812345678", "我妈电话＊＊＊＊＊＊＊＊＊＊＊"),
        ("打 138-1234-5678 找我", "打 ＊＊＊-＊＊＊＊-＊＊＊＊ 找我"),
        ("１３８１２３４５６７８", "＊＊＊＊＊＊＊＊＊＊＊"),
        ("身份证41010220120304123X", "身份证＊＊＊＊＊＊＊＊＊＊＊＊＊＊＊＊＊＊"),
    ],
)
def test_numbers_are_masked_when_asked(text, expected):
    assert moderate_text(text, words=WORDS, mask_numbers=True).body == expected
    assert moderate_text(text, words=WORDS).body == text


def test_a_held_message_is_pending_for_its_sender_only_until_a_teacher_keeps_it(
    world, open_discussion, send, client_for
):
    from backend.audit.models import AuditRecord

    conv = open_discussion(world.teachers[0], world.classes[0])
    sender, other = world.guardians[0][0], world.guardians[0][1]

    response = send(sender, conv["id"], "兼职刷单日赚三百")

    assert response.status_code == 201
    assert response.json()["pending"] is True
    url = f"/api/v1/conversations/{conv['id']}/messages/"
    assert [r["pending"] for r in client_for(sender).get(url).json()["results"]] == [True]
    assert client_for(other).get(url).json()["results"] == []
    assert client_for(world.teachers[0]).get(url).json()["results"] == []
    assert set(events("message.created")) == {sender.pk}
    assert (
        client_for(other)
        .post(f"/api/v1/messages/{response.json()['id']}/reports/", {"reason": "x"})
        .status_code
        == 404
    )
    assert AuditRecord.objects.filter(action="messaging.message_hold").count() == 1

    queue = client_for(world.teachers[0]).get("/api/v1/moderation/reports/").json()["results"]
    assert [(r["by_filter"], r["message"]["body"]) for r in queue] == [(True, "兼职刷单日赚三百")]
    kept = client_for(world.teachers[0]).post(
        f"/api/v1/moderation/reports/{queue[0]['id']}/resolve/", {"action": "keep"}, format="json"
    )

    assert kept.json()["status"] == "kept"
    assert [r["body"] for r in client_for(other).get(url).json()["results"]] == ["兼职刷单日赚三百"]
    assert other.pk in events("message.created")


def test_a_masked_message_is_audited_and_others_see_the_mask(world, open_discussion, send, client_for):
    from backend.audit.models import AuditRecord

    conv = open_discussion(world.teachers[0], world.classes[0])
    response = send(world.guardians[0][0], conv["id"], "谁家孩子这么脑残")

    assert response.json()["body"] == "谁家孩子这么＊＊"
    rows = (
        client_for(world.guardians[0][1])
        .get(f"/api/v1/conversations/{conv['id']}/messages/")
        .json()["results"]
    )
    assert rows[0]["body"] == "谁家孩子这么＊＊"
    assert AuditRecord.objects.filter(action="messaging.message_mask").count() == 1


def test_students_numbers_are_masked_but_guardians_are_not(world, open_discussion, send):
    conv = open_discussion(world.teachers[0], world.classes[0], allow_students=True)

    student = send(world.students[0][0], conv["id"], "我的电话是13812345678")
    guardian = send(world.guardians[0][0], conv["id"], "有事打13812345678")

    assert student.json()["body"] == "我的电话是＊＊＊＊＊＊＊＊＊＊＊"
    assert guardian.json()["body"] == "有事打13812345678"


def test_school_admin_edits_the_school_list_and_it_applies(world, open_discussion, send, client_for):
    school = world.schools[0]
    admin = client_for(world.school_admins[0])
    url = f"/api/v1/schools/{school.pk}/sensitive-words/"

    put = admin.put(
        url,
        {"words": [{"word": "补课费", "policy": "block"}, {"word": "笨蛋", "policy": "mask"}]},
        format="json",
    )
    got = admin.get(url)

    assert put.status_code == 200
    assert got.json()["words"] == [{"word": "笨蛋", "policy": "mask"}, {"word": "补课费", "policy": "block"}]
    conv = open_discussion(world.teachers[0], world.classes[0])
    assert send(world.guardians[0][0], conv["id"], "你这个笨 蛋").json()["body"] == "你这个＊＊＊"
    assert send(world.guardians[0][0], conv["id"], "补课费多少").json()["pending"] is True
    # Other schools are untouched; other people cannot read or write the list.
    other_conv = open_discussion(world.teachers[2], world.classes[2])
    assert send(world.guardians[2][0], other_conv["id"], "笨蛋").json()["body"] == "笨蛋"
    for outsider in (world.school_admins[1], world.teachers[0], world.guardians[0][0]):
        assert client_for(outsider).get(url).status_code == 404
        assert client_for(outsider).put(url, {"words": []}, format="json").status_code == 404
    bad = admin.put(url, {"words": [{"word": "x", "policy": "ban"}]}, format="json")
    assert bad.status_code == 400
    assert len(got.json()["words"]) == 2
