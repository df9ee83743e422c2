"""Message bodies: sanitised HTML for display, plain text for search and notifications, and the jieba
tokens the full-text search matches."""

from __future__ import annotations

import html
import re
from functools import cache
from typing import Any

import nh3

ALLOWED_TAGS = {"p", "br", "b", "strong", "i", "em", "u", "ul", "ol", "li", "a", "blockquote", "code", "pre"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")
MENTION = re.compile(r"@([\w.\-]+)")


def sanitize(body: str) -> str:
    """HTML safe to render: scripts, event handlers, styles and unknown tags are removed; plain text
    keeps its line breaks."""
    if "<" not in body:
        return "<br>".join(html.escape(line) for line in body.splitlines())
    return nh3.clean(
        body, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes={"http", "https", "mailto"}
    )


def to_text(safe_html: str) -> str:
    text = _TAG.sub(" ", safe_html.replace("<br>", "\n"))
    return _SPACE.sub(" ", html.unescape(text)).strip()


@cache
def _jieba() -> Any:
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def tokens(*texts: str) -> str:
    """Space-separated search tokens: jieba's search-mode words of Chinese text, lower-cased Latin words
    and numbers (waybill numbers stay whole)."""
    words: list[str] = []
    for text in texts:
        if text:
            words.extend(w.strip().lower() for w in _jieba().cut_for_search(text) if w.strip())
    return " ".join(dict.fromkeys(w for w in words if w.isalnum()))


def merged(*token_strings: str) -> str:
    """Token strings (from :func:`tokens`) joined as :func:`tokens` of all their texts would be."""
    return " ".join(dict.fromkeys(w for t in token_strings for w in t.split()))


def without(token_string: str, *others: str) -> str:
    """The tokens of ``token_string`` that none of the ``others`` token strings holds."""
    seen = {w for other in others for w in other.split()}
    return " ".join(w for w in dict.fromkeys(token_string.split()) if w not in seen)


def internal_only(*, search_text: str, internal_search_text: str, note_tokens: str) -> str:
    """A ticket's ``internal_search_text`` after an internal note with ``note_tokens`` is added: the
    note's tokens that no public text of the ticket holds join the internal-only ones."""
    public = without(search_text, internal_search_text)
    return merged(internal_search_text, without(note_tokens, public))
