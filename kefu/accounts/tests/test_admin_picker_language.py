"""The admin's two-box picker (a user's or team's skills, groups, permissions) speaks the page's
language: every string of Django's SelectFilter2.js has a Chinese translation in the admin's JavaScript
catalog on zh-hans pages (Django 5.2's own zh_Hans catalog lacks seven), and stays English on en."""

from __future__ import annotations

import json
import re
from pathlib import Path

import django.contrib.admin
import pytest
from django.test import Client

from kefu.accounts.enums import Role

pytestmark = pytest.mark.django_db

PICKER = Path(django.contrib.admin.__file__).parent / "static/admin/js/SelectFilter2.js"


def _picker_strings() -> set[str]:
    source = PICKER.read_text()
    singles = re.findall(r"""\bgettext\((['"])(.*?)\1\)""", source)
    plurals = re.findall(r"""ngettext\(\s*(['"])(.*?)\1""", source)
    return {text for _quote, text in singles + plurals}


def _catalog(client: Client, language: str) -> dict[str, object]:
    response = client.get("/admin/jsi18n/", headers={"Accept-Language": language})
    assert response.status_code == 200
    script = response.content.decode()
    start = script.find("const newcatalog = ")
    if start < 0:  # no translations at all
        return {}
    catalog: dict[str, object] = json.JSONDecoder().raw_decode(script, start + len("const newcatalog = "))[0]
    return catalog


def test_every_picker_string_is_chinese_on_zh_hans_pages(make_user):
    client = Client()
    client.force_login(make_user(Role.ADMIN))
    strings = _picker_strings()
    assert len(strings) >= 12  # the reader found the picker's strings

    catalog = _catalog(client, "zh-hans")

    missing = sorted(s for s in strings if s not in catalog)
    assert missing == []
    assert catalog["Choose all %s"] == "全选%s"
    assert catalog['Choose %s by selecting them and then select the "Choose" arrow button.'] == (
        "选中左侧的%s，然后点击“选择”箭头按钮。"
    )


def test_english_pages_keep_djangos_english(make_user):
    client = Client()
    client.force_login(make_user(Role.ADMIN))
    assert "Choose all %s" not in _catalog(client, "en")  # no translation: the English msgid is shown
