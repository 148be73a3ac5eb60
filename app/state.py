"""The view's state: every widget value lives in the URL query string, so a copied link reproduces the view.

How it works. On the first run of a browser session the query string seeds a shadow copy of the state.
Before a widget is drawn, `prepare(key, options, default)` puts a valid value into `st.session_state[key]`
(from the widget's own state, else the shadow, else the default); widgets are then created with `key=` and
no default of their own. At the end of every run `publish(page)` copies every known key back into the
shadow (page widgets vanish from session state while their page is not shown) and writes the whole state,
defaults included, into `st.query_params`, so a link stays exact even when the data changes later.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import streamlit as st

SHADOW = "_view_state"
SEEDED = "_view_seeded"
PAGE = "page"

# query-string key -> kind. Sidebar keys first, then keys of widgets that live on one page.
FIELDS: dict[str, str] = {
    "forces": "list", "start": "str", "end": "str", "eth": "str", "level": "str", "ref": "str",
    "btp": "bool", "legislation": "list", "object": "list", "age": "list", "gender": "list", "type": "list",
    "group": "str",            # the group compared with the reference (headline, compare, outcomes)
    "mix": "str",              # search-mix dimension on the Disparity page
    "trend": "str",            # rate or ratio on the Disparity page's trend
    "sort": "str",             # league table order on Compare forces
    "uof_year": "str",         # use-of-force financial year
    "map_group": "list",       # groups shown on the map
}


def _shadow() -> dict[str, Any]:
    return st.session_state.setdefault(SHADOW, {})


def _decode(kind: str, values: list[str]) -> Any:
    if kind == "list":
        return [v for v in values if v != ""]
    text = values[-1] if values else ""
    if kind == "bool":
        return text.lower() in ("1", "true", "yes", "on")
    return text


def _encode(kind: str, value: Any) -> str | list[str]:
    if kind == "list":
        return [str(v) for v in value] if value else [""]
    if kind == "bool":
        return "1" if value else "0"
    return "" if value is None else str(value)


def seed_from_url() -> None:
    """Once per session: read the query string into the shadow state (unknown keys are ignored)."""
    if st.session_state.get(SEEDED):
        return
    shadow = _shadow()
    params = st.query_params
    for key, kind in FIELDS.items():
        if key in params:
            shadow[key] = _decode(kind, params.get_all(key))
    if PAGE in params:
        shadow[PAGE] = params.get(PAGE, "")
    st.session_state[SEEDED] = True


def value(key: str, default: Any = None) -> Any:
    """The current value of a key: the live widget value, else the remembered one, else the default."""
    if key in st.session_state:
        return st.session_state[key]
    return _shadow().get(key, default)


def prepare(key: str, options: Sequence[Any] | None, default: Any) -> None:
    """Make `st.session_state[key]` hold a valid value before the widget with that key is drawn.

    Values from the URL or an earlier run that are no longer among the options fall back to the default
    (for lists: the invalid items are dropped).
    """
    kind = FIELDS.get(key, "str")
    current = value(key, default)
    if options is not None:
        allowed = list(options)
        if kind == "list":
            current = [v for v in (current or []) if v in allowed]
        elif current not in allowed:
            current = default if default in allowed else (allowed[0] if allowed else None)
    if kind == "bool":
        current = bool(current)
    if st.session_state.get(key, object()) != current:
        st.session_state[key] = current


def set_value(key: str, new: Any) -> None:
    """Set a value from a callback (before widgets are drawn), e.g. a drill-down into one force."""
    st.session_state[key] = new
    _shadow()[key] = new


def go_to(page: str) -> None:
    """Ask for another page from a callback (st.switch_page cannot run inside one)."""
    _shadow()[PAGE] = page


def requested_page() -> str | None:
    """A page asked for by `?page=` in the link that opened the session, or by `go_to` (used once)."""
    return _shadow().pop(PAGE, None)


def encoded(page: str) -> dict[str, str | list[str]]:
    shadow = _shadow()
    out: dict[str, str | list[str]] = {PAGE: page}
    for key, kind in FIELDS.items():
        if key in shadow:
            out[key] = _encode(kind, shadow[key])
    return out


def publish(page: str) -> None:
    """Remember every live widget value and write the whole view into the URL query string."""
    shadow = _shadow()
    for key in FIELDS:
        if key in st.session_state:
            shadow[key] = st.session_state[key]
    wanted = encoded(page)
    params = st.query_params
    current = {k: (params.get_all(k) if FIELDS.get(k) == "list" else params.get(k)) for k in params}
    if current != wanted:
        params.from_dict(wanted)
