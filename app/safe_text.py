"""Untrusted text (file names, file content quoted in errors, API replies) shown on the page as text, never
as Markdown: an uploaded row `![t](http://host/x.png)` must not make the browser fetch that address."""
from __future__ import annotations

import re

from data.errors import printable

# CommonMark 2.4: any ASCII punctuation character may be backslash-escaped and is then literal. These are
# the ones that open Markdown, HTML, LaTeX ($) or Streamlit directives (:red[...]) inline.
_INLINE = re.compile(r"([\\`*_\[\]{}<>!#|~$])")
_ORDERED = re.compile(r"(\s*\d+)([.)])")  # '1. text' at the start of a line opens an ordered list


def markdown_text(text: object) -> str:
    """`text` escaped so that st.markdown / st.error / st.success show it literally: one line (control
    characters, newlines included, written as escapes), Markdown punctuation backslash-escaped."""
    safe = _INLINE.sub(r"\\\1", printable(text, limit=4000))
    ordered = _ORDERED.match(safe)
    if ordered:
        return f"{ordered.group(1)}\\{ordered.group(2)}{safe[ordered.end():]}"
    body = safe.lstrip()
    if body[:1] in ("-", "+", "=", ">", "#"):  # lists, quotes, headings, rules and setext underlines
        return f"{safe[:len(safe) - len(body)]}\\{body}"
    return safe


def markdown_lines(lines: list[str]) -> str:
    """Several untrusted lines as Markdown with hard line breaks, each escaped by markdown_text."""
    return "  \n".join(markdown_text(line) for line in lines)
