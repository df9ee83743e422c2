import pytest


@pytest.mark.django_db
def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok"}}


@pytest.mark.django_db
def test_healthz_checks_redis_when_configured(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:6379/0"
    assert client.get("/healthz").json()["checks"]["redis"] == "ok"
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["redis"].startswith("error")
