"""The browsable API docs answer: Swagger UI, Redoc and the OpenAPI schema."""

from __future__ import annotations

import yaml


def test_swagger_ui_page(api):
    response = api.get("/api/docs/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    assert "swagger-ui" in body.lower()
    assert "/api/schema/" in body


def test_redoc_page(api):
    response = api.get("/api/redoc/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    assert "redoc" in body.lower()
    assert "/api/schema/" in body


def test_schema_is_the_openapi_document(api, db):
    response = api.get("/api/schema/")

    assert response.status_code == 200
    assert "openapi" in response["Content-Type"]
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Jiaxiao Hub (家校通) mobile API"
    assert {"/api/v1/auth/token/", "/api/v1/notices/", "/api/v1/events/", "/api/v1/files/"} <= set(
        schema["paths"]
    )
    assert all(path.startswith("/api/v1/") for path in schema["paths"])
    assert schema["paths"]["/api/v1/auth/token/"]["post"]["summary"].endswith("/ Log in with a password")
