"""Who sees what: every endpoint answers 404 outside the caller's scope, and lists
hold no foreign rows."""

from __future__ import annotations

import pytest

from backend.schools.models import Org
from backend.schools.services import org_admin_grant, org_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_admin(demo, school):
    other_school = org_create(name="西工区第二小学", kind=Org.Kind.SCHOOL, parent=school.get_parent())
    admin = type(demo.admin).objects.create_user("13811112222", None, name="王校长")
    org_admin_grant(org=other_school, user=admin, role="school_admin")
    return admin


@pytest.fixture
def two_notices(demo, class1, class2, post_notice):
    """One notice per class, each from its head teacher."""
    n2 = post_notice(demo.head2, [class2.pk], title="二班春游").json()["id"]
    n1 = post_notice(demo.head1, [class1.pk], title="一班春游").json()["id"]
    return n1, n2


def test_inboxes_hold_only_notices_for_the_callers_children(
    demo, guardians1, guardians2, two_notices, client_for
):
    n1, n2 = two_notices
    assert [n["id"] for n in client_for(guardians2[0]).get("/api/v1/notices/").json()["results"]] == [n2]
    assert [n["id"] for n in client_for(guardians1[0]).get("/api/v1/notices/").json()["results"]] == [n1]
    assert client_for(demo.head1).get("/api/v1/notices/").json()["results"] == []
    assert client_for(demo.user("S20260201")).get("/api/v1/notices/").json()["results"] == []


def test_sent_boxes_hold_only_the_callers_notices(demo, two_notices, client_for):
    n1, n2 = two_notices
    sent2 = client_for(demo.head2).get("/api/v1/notices/?box=sent").json()["results"]
    assert [(n["id"], n["stats"]["recipients"]) for n in sent2] == [(n2, 30)]
    assert [n["id"] for n in client_for(demo.head1).get("/api/v1/notices/?box=sent").json()["results"]] == [
        n1
    ]
    assert client_for(demo.admin).get("/api/v1/notices/?box=sent").json()["results"] == []
    bad = client_for(demo.head1).get("/api/v1/notices/?box=all")
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "invalid_box")


def test_detail_by_role(demo, guardians1, guardians2, other_admin, two_notices, client_for):
    _, n2 = two_notices
    url = f"/api/v1/notices/{n2}/"

    as_parent = client_for(guardians2[3]).get(url).json()
    assert as_parent["stats"] is None
    assert as_parent["my_receipt"]["read_at"] is None
    for manager in (demo.head2, demo.admin, demo.bureau):
        seen = client_for(manager).get(url).json()
        assert seen["stats"] == {"recipients": 30, "read": 0, "confirmed": 0}
        assert seen["my_receipt"] is None
    for outsider in (demo.head1, guardians1[0], other_admin, demo.user("S20260101")):
        response = client_for(outsider).get(url)
        assert response.status_code == 404, outsider
        assert response.json()["error"]["code"] == "not_found"
    assert client_for(demo.head2).get("/api/v1/notices/999999/").status_code == 404
    assert client_for(demo.head2).get("/api/v1/notices/abc/").status_code == 404


def test_every_action_is_404_outside_scope(demo, guardians1, other_admin, two_notices, client_for):
    _, n2 = two_notices
    for outsider in (demo.head1, guardians1[0], other_admin):
        client = client_for(outsider)
        for method, path in (
            ("get", "receipts/"),
            ("post", "read/"),
            ("post", "confirm/"),
            ("post", "reminders/"),
            ("post", "recall/"),
            ("post", "cancel/"),
        ):
            response = getattr(client, method)(f"/api/v1/notices/{n2}/{path}", {}, format="json")
            assert response.status_code == 404, (outsider, path)


def test_anonymous_callers_are_refused(api, two_notices):
    _, n2 = two_notices
    assert api.get("/api/v1/notices/").status_code == 401
    assert api.get(f"/api/v1/notices/{n2}/").status_code == 401
    assert api.post("/api/v1/notices/", {}, format="json").status_code == 401


def test_lists_cost_two_queries_whatever_their_length(
    demo, class2, guardians2, post_notice, client_for, django_assert_num_queries
):
    for n in range(5):
        post_notice(demo.head2, [class2.pk], title=f"通知{n}")
    parent, teacher = client_for(guardians2[0]), client_for(demo.head2)

    # the caller, then one page of receipts with their notices (or of notices)
    with django_assert_num_queries(2):
        inbox = parent.get("/api/v1/notices/")
    with django_assert_num_queries(2):
        sent = teacher.get("/api/v1/notices/?box=sent&page_size=2")
    with django_assert_num_queries(2):
        unread = parent.get("/api/v1/notices/unread-count/")

    assert [n["title"] for n in inbox.json()["results"]] == [f"通知{n}" for n in range(4, -1, -1)]
    assert [n["title"] for n in sent.json()["results"]] == ["通知4", "通知3"]
    assert sent.json()["next"]
    assert unread.json() == {"unread": 5, "unconfirmed": 5}
