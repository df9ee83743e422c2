"""The site has an icon: pages link it, and browsers that ask /favicon.ico (admin, API docs) get it —
served as a static file, under the Content-Security-Policy like everything else."""

from __future__ import annotations

import re

import pytest
from django.template.loader import render_to_string
from django.test import Client

pytestmark = pytest.mark.django_db


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_favicon_ico_is_served_at_the_root():
    response = Client().get("/favicon.ico")
    assert response.status_code == 200
    assert _body(response)[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert "icon" in response["Content-Type"]


@pytest.mark.parametrize("path", ["/login/", "/admin/login/"])
def test_pages_link_an_icon_that_loads(path):
    client = Client()
    page = client.get(path).content.decode()
    links = re.findall(r'<link rel="icon" href="([^"]+)"', page)
    if path.startswith("/admin/"):
        assert links == []  # the admin has no link: its browser asks /favicon.ico, tested above
        return
    (href,) = links
    icon = client.get(href)
    assert icon.status_code == 200
    assert _body(icon).startswith(b"<svg")


def test_the_error_page_links_the_icon_too():
    assert '<link rel="icon" href="/static/kefu/favicon.svg"' in render_to_string("500.html")
