"""The view's state: every widget value lives in the URL query string, so a copied link reproduces the view.

How it works. The query string seeds a shadow copy of the state on the first run of a browser session, and
again whenever the address changes under the app (Back, Forward, an edited or pasted link): the address is
then the user's new choice. Before a widget is drawn, `prepare(key, options, default)` puts a valid value
into `st.session_state[key]` (from the widget's own state, else the shadow, else the default); widgets are
then created with `key=` and no default of their own. At the end of every run `publish()` copies every
known key back into the shadow (page widgets vanish from session state while their page is not shown) and
writes the whole state, defaults included, into `st.query_params`, so a link stays exact even when the data
change later. The page itself is the address's path (/compare), never a query key: a page change is then
one browser history entry, and Back steps through pages and filter changes alike.

A selection changes only when the user changes it: a value one page cannot offer (say the compared group
on a page without it) is shown as a fallback on that page only and the user's choice is kept for the
others; a link's value that the app does not know is reported on the page, not silently replaced.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

import streamlit as st

from data.errors import StopSearchDataError
from data.reference_data import check_force

SHADOW = "_view_state"
SEEDED = "_view_seeded"
PUBLISHED = "_view_published"      # the query string this app last wrote (to tell Back from our own writes)
FROM_LINK = "_view_from_link"      # keys whose value came from the address and is not yet checked
LINK_NOTES = "_view_link_notes"    # what the address asked for that the app could not show
FALLBACKS = "_view_fallbacks"      # key -> (value shown on this page, the user's choice kept)
LAST_PAGE = "_view_last_page"      # the page the previous run showed
DEFAULTS = "_view_defaults"        # key -> the default its page last gave it
PAGE = "page"

# query-string key -> kind. Sidebar keys first, then keys of widgets that live on one page.
FIELDS: dict[str, str] = {
    "forces": "list", "start": "str", "end": "str", "eth": "str", "level": "str", "ref": "str",
    "census": "str",
    "btp": "bool", "legislation": "list", "object": "list", "age": "list", "gender": "list", "type": "list",
    "group": "str",            # the group compared with the reference (headline, compare, outcomes)
    "mix": "str",              # search-mix dimension on the Disparity page
    "trend": "str",            # rate or ratio on the Disparity page's trend
    "trend_window": "str",     # the trend's months: every stored month, or the sidebar's period
    "long_measure": "str",     # rate or ratio on the Long view page
    "sort": "str",             # league table order on Compare forces
    "uof_year": "str",         # use-of-force financial year
    "uof_tactic": "str",       # use-of-force tactic in the per-force table
    "uof_group": "str",        # use-of-force group compared with the reference (officer-perceived, broad)
    "uof_measure": "str",      # use-of-force unit: per 1,000 residents, or shares
    "map_group": "list",       # groups shown on the map
}
# The sidebar's keys are drawn on every page and always written; a page's own keys are written once they
# differ from the page's default, so that opening a page never changes the address by itself (it would be
# a second browser history entry for one click).
SIDEBAR = ("forces", "start", "end", "eth", "level", "ref", "census", "btp", "legislation", "object", "age",
           "gender", "type")
# Keys whose options differ from page to page: a page that cannot show the choice falls back for itself
# only, and the choice is kept for the pages that can.
PAGE_DEPENDENT = {"group"}
LABELS = {"forces": "force", "start": "start month", "end": "end month", "eth": "ethnicity definition",
          "level": "group level", "ref": "reference group", "group": "compared group"}


def _shadow() -> dict[str, Any]:
    return st.session_state.setdefault(SHADOW, {})


def _decode(key: str, kind: str, values: list[str]) -> Any:
    if kind == "list":
        items = [v for v in values if v != ""]
        if key == "forces":
            # the command line's form too: forces=durham,gloucestershire (and names or aliases it knows)
            items = [part.strip() for v in items for part in v.split(",") if part.strip()]
            items = [_force_id(item) for item in items]
        return list(dict.fromkeys(items))
    text = values[-1] if values else ""
    if kind == "bool":
        return text.lower() in ("1", "true", "yes", "on")
    return text


def _force_id(text: str) -> str:
    try:
        return check_force(text)
    except StopSearchDataError:
        return text          # reported by prepare(), which knows what the data hold


def _encode(kind: str, value: Any) -> str | list[str]:
    if kind == "list":
        return [str(v) for v in value] if value else [""]
    if kind == "bool":
        return "1" if value else "0"
    return "" if value is None else str(value)


def _current_params() -> dict[str, Any]:
    params = st.query_params
    return {k: (params.get_all(k) if FIELDS.get(k) == "list" else params.get(k)) for k in params}


def seed_from_url() -> None:
    """Read the address into the state: once per session, and again whenever the address changed under the
    app (Back, Forward, a pasted link). Also starts a run's bookkeeping."""
    st.session_state[FALLBACKS] = {}
    if st.session_state.get(SEEDED):
        published = st.session_state.get(PUBLISHED)
        current = _current_params()
        if published is None or not current or current == published:
            return      # our own address, or a page change (the browser empties the query string)
        _seed(replace=True)
        return
    _seed(replace=False)
    st.session_state[SEEDED] = True


def _seed(*, replace: bool) -> None:
    shadow = _shadow()
    params = st.query_params
    from_link: set[str] = set()
    for key, kind in FIELDS.items():
        if key in params:
            shadow[key] = _decode(key, kind, params.get_all(key))
            from_link.add(key)
        elif replace:
            shadow.pop(key, None)
        if replace:
            # the widgets take the address's values (or their defaults) on this run
            if key in shadow:
                st.session_state[key] = shadow[key]
            else:
                st.session_state.pop(key, None)
    if PAGE in params:       # links written by earlier versions (and AppTest) name the page in the query
        shadow[PAGE] = params.get(PAGE, "")
    st.session_state[FROM_LINK] = from_link
    st.session_state[LINK_NOTES] = []


def value(key: str, default: Any = None) -> Any:
    """The current value of a key: the live widget value, else the remembered one, else the default."""
    if key in st.session_state:
        return st.session_state[key]
    return _shadow().get(key, default)


def prepare(key: str, options: Sequence[Any] | None, default: Any) -> None:
    """Make `st.session_state[key]` hold a valid value before the widget with that key is drawn.

    A remembered value that is not among the options falls back to the default (lists: the unknown items
    are dropped); when the value came from a link, the page says what it could not show. For keys whose
    options differ between pages (PAGE_DEPENDENT) the fallback holds on this page only.
    """
    kind = FIELDS.get(key, "str")
    st.session_state.setdefault(DEFAULTS, {})[key] = default
    current = value(key, default)
    from_link = key in st.session_state.get(FROM_LINK, set())
    if options is not None:
        allowed = list(options)
        if kind == "list":
            unknown = [v for v in (current or []) if v not in allowed]
            current = [v for v in (current or []) if v in allowed]
            if unknown and from_link:
                _link_note(key, unknown, shown=current or "all")
        elif current not in allowed:
            fallback = default if default in allowed else (allowed[0] if allowed else None)
            if from_link and current not in (None, ""):
                _link_note(key, [current], shown=fallback)
            if key in PAGE_DEPENDENT and current not in (None, ""):
                st.session_state[FALLBACKS][key] = (fallback, current)
            current = fallback
    if from_link:
        st.session_state[FROM_LINK].discard(key)
    if kind == "bool":
        current = bool(current)
    # Always set it: a widget with the same key on another page is another widget to Streamlit, and only a
    # value set through the Session State API carries over to it.
    st.session_state[key] = current


def _link_note(key: str, asked: Sequence[Any], *, shown: Any) -> None:
    what = LABELS.get(key, key)
    asked_text = ", ".join(f"'{a}'" for a in asked)
    shown_text = ", ".join(map(str, shown)) if isinstance(shown, list) else str(shown)
    st.session_state.setdefault(LINK_NOTES, []).append(
        f"The link asked for {what} {asked_text}, which this data does not have: showing {shown_text} instead.")


def link_notes() -> list[str]:
    """What the address asked for that the app could not show (reported once, on the run that read it)."""
    return list(st.session_state.get(LINK_NOTES, []))


def fallback_note(key: str) -> str | None:
    """'Black is not in this page's data: showing Asian here (your choice is kept for other pages).'"""
    entry = st.session_state.get(FALLBACKS, {}).get(key)
    if not entry or st.session_state.get(key) != entry[0]:
        return None
    shown, kept = entry
    return f"{kept} is not available on this page: showing {shown} here; your choice is kept for the other pages."


def set_value(key: str, new: Any) -> None:
    """Set a value from a callback (before widgets are drawn), e.g. a drill-down into one force."""
    st.session_state[key] = new
    _shadow()[key] = new


def go_to(page: str) -> None:
    """Ask for another page from a callback (st.switch_page cannot run inside one)."""
    _shadow()[PAGE] = page


DRILLS = "_view_drills"             # how many times a click on a chart drilled the app into a force


def drilled() -> None:
    """A click on a chart drilled the app into a force (call from the click's callback)."""
    st.session_state[DRILLS] = st.session_state.get(DRILLS, 0) + 1


def chart_key(base: str) -> str:
    """The key of a chart whose click drills the app while staying on its page (the map): a new key after each
    drill, so the click is not kept as the chart's selection (plotly dims every point but the selected one,
    even after Back). A drill to another page needs none: Streamlit drops the selection of a chart not drawn."""
    return f"{base}_{st.session_state.get(DRILLS, 0)}"


def requested_page() -> str | None:
    """A page asked for by `?page=` in the link that opened the session, or by `go_to` (used once)."""
    return _shadow().pop(PAGE, None)


def encoded() -> dict[str, str | list[str]]:
    shadow = _shadow()
    defaults = st.session_state.get(DEFAULTS, {})
    missing = object()
    return {key: _encode(kind, shadow[key]) for key, kind in FIELDS.items()
            if key in shadow and (key in SIDEBAR or shadow[key] != defaults.get(key, missing))}


def publish(page: str | None = None) -> None:
    """Remember every live widget value and write the whole view into the URL query string.

    `page` is the slug of the page shown. A click on another page makes the browser push the new path with
    an empty query string; writing the query through `st.query_params` would push a second history entry
    (two presses of Back for one click), so on that run the address is completed in place instead.
    """
    shadow = _shadow()
    fallbacks = st.session_state.get(FALLBACKS, {})
    for key in FIELDS:
        if key in st.session_state:
            live = st.session_state[key]
            if key in fallbacks and live == fallbacks[key][0]:
                continue     # a page-only fallback: keep the user's choice
            shadow[key] = live
    wanted = encoded()
    current = _current_params()
    page_changed = page is not None and st.session_state.get(LAST_PAGE) not in (None, page)
    st.session_state[LAST_PAGE] = page
    if current != wanted:
        if page_changed and not current:
            _replace_address(wanted)
        else:
            st.query_params.from_dict(wanted)
    st.session_state[PUBLISHED] = wanted


def _replace_address(wanted: dict[str, str | list[str]]) -> None:
    """Put the query string into the address without a new history entry (history.replaceState)."""
    query = json.dumps(urlencode(wanted, doseq=True))
    st.html(f"<script>history.replaceState(history.state, '', location.pathname + '?' + {query});</script>",
            unsafe_allow_javascript=True, width="content")
