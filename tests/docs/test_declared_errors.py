"""What the declared 404s promise holds for every URL under /api/: the JSON envelope,
also when the path matches no route (a route taking a number, given a word)."""

from __future__ import annotations


def test_an_api_path_matching_no_route_answers_the_envelope(api, db):
    response = api.get("/api/v1/sms/jobs/abc/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"error": {"code": "not_found", "message": "对象不存在"}}


def test_other_paths_keep_the_html_page(api, db):
    response = api.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
