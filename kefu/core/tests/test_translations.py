"""The English catalog is complete, compiled, and actually used (design.md: "English is complete").

The .po is parsed with a small reader below (polib is not a dependency). When a test here fails after
you added or changed a string, run ``make messages``, translate the new entries in
``kefu/locale/en/LC_MESSAGES/django.po`` and compile again.
"""

from __future__ import annotations

import ast
import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.utils import translation

from kefu.accounts.enums import Role

LOCALE_DIR = Path(__file__).resolve().parents[2] / "locale" / "en" / "LC_MESSAGES"
PO_PATH = LOCALE_DIR / "django.po"
MO_PATH = LOCALE_DIR / "django.mo"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]|%[sdif]")


@dataclass
class Entry:
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)

    @property
    def key(self) -> str:
        # The key GNU gettext uses inside a .mo file.
        return self.msgid if self.msgctxt is None else f"{self.msgctxt}\x04{self.msgid}"


def _unquote(text: str) -> str:
    # PO strings are C-style quoted; for the escapes PO files use (\" \\ \n \t) that equals a Python literal.
    value = ast.literal_eval(text.strip())
    assert isinstance(value, str)
    return value


def parse_po(path: Path) -> list[Entry]:
    """Every live entry of a .po file (obsolete ``#~`` entries skipped), header included (msgid "")."""
    entries: list[Entry] = []
    current = Entry()
    target: tuple[str, int] | None = None
    seen_msgid = False

    def finish() -> None:
        nonlocal current, target, seen_msgid
        if seen_msgid:
            entries.append(current)
        current, target, seen_msgid = Entry(), None, False

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            finish()
            continue
        if line.startswith("#~"):
            continue
        if line.startswith("#,"):
            if seen_msgid:
                finish()
            current.flags.update(flag.strip() for flag in line[2:].split(",") if flag.strip())
            continue
        if line.startswith("#"):
            if seen_msgid and target is not None and target[0] == "msgstr":
                finish()
            continue
        keyword, _, rest = line.partition(" ")
        if line.startswith('"'):
            assert target is not None, f"continuation line without a keyword: {raw!r}"
            kind, index = target
            text = _unquote(line)
            if kind == "msgstr":
                current.msgstr[index] += text
            else:
                setattr(current, kind, (getattr(current, kind) or "") + text)
            continue
        if keyword == "msgctxt":
            if seen_msgid:
                finish()
            current.msgctxt = _unquote(rest)
            target = ("msgctxt", 0)
        elif keyword == "msgid":
            if seen_msgid:
                finish()
            current.msgid = _unquote(rest)
            seen_msgid = True
            target = ("msgid", 0)
        elif keyword == "msgid_plural":
            current.msgid_plural = _unquote(rest)
            target = ("msgid_plural", 0)
        elif keyword == "msgstr":
            current.msgstr[0] = _unquote(rest)
            target = ("msgstr", 0)
        elif keyword.startswith("msgstr["):
            index = int(keyword[len("msgstr[") : -1])
            current.msgstr[index] = _unquote(rest)
            target = ("msgstr", index)
        else:
            raise AssertionError(f"unexpected line in {path.name}: {raw!r}")
    finish()
    return entries


@pytest.fixture(scope="module")
def entries() -> list[Entry]:
    assert PO_PATH.is_file(), f"{PO_PATH} is missing: run `make messages`"
    return [e for e in parse_po(PO_PATH) if e.msgid]


def test_catalog_has_entries(entries: list[Entry]) -> None:
    assert len(entries) > 100


def test_every_entry_is_translated(entries: list[Entry]) -> None:
    untranslated = [e.msgid for e in entries if not e.msgstr or not all(v.strip() for v in e.msgstr.values())]
    assert untranslated == []


def test_no_entry_is_fuzzy() -> None:
    # The header counts too: a fuzzy header makes compilemessages skip the whole catalog's metadata.
    fuzzy = [e.msgid for e in parse_po(PO_PATH) if "fuzzy" in e.flags]
    assert fuzzy == []


def test_placeholders_are_kept(entries: list[Entry]) -> None:
    wrong = []
    for entry in entries:
        if "python-format" not in entry.flags and "python-brace-format" not in entry.flags:
            continue
        expected = sorted(PLACEHOLDER.findall(entry.msgid))
        for translated in entry.msgstr.values():
            if sorted(PLACEHOLDER.findall(translated)) != expected:
                wrong.append((entry.msgid, translated))
    assert wrong == []


def test_compiled_catalog_matches_the_po(entries: list[Entry]) -> None:
    """The .mo that Django loads says exactly what the .po says (nobody forgot compilemessages)."""
    assert MO_PATH.is_file(), f"{MO_PATH} is missing: run `make messages`"
    with MO_PATH.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    catalog: dict[object, str] = compiled._catalog  # type: ignore[attr-defined]
    stale = []
    for entry in entries:
        if entry.msgid_plural is None:
            if catalog.get(entry.key) != entry.msgstr[0]:
                stale.append(entry.msgid)
        else:
            for index, text in entry.msgstr.items():
                if catalog.get((entry.key, index)) != text:
                    stale.append(entry.msgid)
    assert stale == []


@pytest.mark.parametrize(
    ("role", "english"),
    [
        (Role.AGENT, "Agent"),
        (Role.LEAD, "Team lead"),
        (Role.MANAGER, "Manager"),
        (Role.QA, "QA"),
        (Role.ANALYST, "Analyst"),
        (Role.ADMIN, "Administrator"),
        (Role.CUSTOMER, "Customer portal user"),
    ],
)
def test_role_labels_in_english(role: Role, english: str) -> None:
    with translation.override("en"):
        assert str(role.label) == english
    with translation.override("zh-hans"):
        assert str(role.label) != english


@pytest.mark.parametrize(
    ("chinese", "english"),
    [
        ("工作台", "Workspace"),
        ("客户", "Customers"),
        ("导入", "Import"),
        ("团队", "Teams"),
        ("我的企业", "My company"),
    ],
)
def test_navigation_labels_in_english(chinese: str, english: str) -> None:
    with translation.override("en"):
        assert translation.gettext(chinese) == english
    with translation.override("zh-hans"):
        assert translation.gettext(chinese) == chinese
