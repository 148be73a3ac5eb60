"""One colour per ethnic group everywhere (Okabe-Ito, colour-blind safe), plus status and outcome colours."""
from __future__ import annotations

from data import vocab

# The Okabe-Ito palette (Okabe & Ito 2008, "Color Universal Design"), safe for the common colour-vision
# deficiencies. Yellow is left out of group colours: it vanishes on a white page.
OKABE_ITO: dict[str, str] = {
    "black": "#000000", "orange": "#E69F00", "sky_blue": "#56B4E9", "bluish_green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "reddish_purple": "#CC79A7",
    "grey": "#999999",
}

BROAD_COLOURS: dict[str, str] = {
    "Asian": OKABE_ITO["orange"],
    "Black": OKABE_ITO["blue"],
    "Mixed": OKABE_ITO["reddish_purple"],
    "White": OKABE_ITO["bluish_green"],
    "Other": OKABE_ITO["vermillion"],
    vocab.NOT_STATED: OKABE_ITO["grey"],
}
UNKNOWN_COLOUR = "#555555"   # an unrecognised label, or a group no table knows


def _mix(hex_colour: str, target: tuple[int, int, int], t: float) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    out = (round(c + (tc - c) * t) for c, tc in zip((r, g, b), target, strict=True))
    return "#" + "".join(f"{c:02X}" for c in out)


def shade(hex_colour: str, amount: float) -> str:
    """Darker (amount < 0, towards black) or lighter (amount > 0, towards white) version of a colour."""
    if amount < 0:
        return _mix(hex_colour, (0, 0, 0), -amount)
    return _mix(hex_colour, (255, 255, 255), amount)


# Shades from dark to light for n members of one broad family: the base hue stays recognisable and
# neighbours differ in lightness by at least ~20%, so they remain distinguishable side by side.
_STEPS: dict[int, tuple[float, ...]] = {
    2: (-0.25, 0.30),
    3: (-0.35, 0.0, 0.40),
    4: (-0.45, -0.15, 0.20, 0.50),
    5: (-0.50, -0.25, 0.0, 0.30, 0.55),
}


def _detailed_colours() -> dict[str, str]:
    out: dict[str, str] = {}
    for broad in vocab.BROAD_GROUPS:
        members = [d for d, b in vocab.DETAILED_GROUPS.items() if b == broad]
        for member, step in zip(members, _STEPS[len(members)], strict=True):
            out[member] = shade(BROAD_COLOURS[broad], step)
    return out


DETAILED_COLOURS: dict[str, str] = {**_detailed_colours(), vocab.NOT_STATED: BROAD_COLOURS[vocab.NOT_STATED]}
# Every group name (broad and detailed never share a name; 'Not stated' is grey in both).
GROUP_COLOURS: dict[str, str] = {**BROAD_COLOURS, **DETAILED_COLOURS}

# Coverage heatmap: manifest status of a force-month ('not_fetched' = nothing in the manifest).
STATUS_COLOURS: dict[str, str] = {
    "ok": OKABE_ITO["bluish_green"],
    "empty": OKABE_ITO["sky_blue"],
    "not_published": OKABE_ITO["orange"],
    "failed": OKABE_ITO["vermillion"],
    "not_fetched": "#E0E0E0",
}
STATUS_ORDER: tuple[str, ...] = tuple(STATUS_COLOURS)

# The three headline outcome classes (vocab.OUTCOME_CLASS values).
OUTCOME_COLOURS: dict[str, str] = {
    "Arrest": OKABE_ITO["vermillion"],
    "Other action": OKABE_ITO["sky_blue"],
    "No further action": "#BBBBBB",
}
# Any other categorical series (legislation, object of search, missing fields): Okabe-Ito order.
CATEGORY_PALETTE: tuple[str, ...] = (
    OKABE_ITO["blue"], OKABE_ITO["orange"], OKABE_ITO["bluish_green"], OKABE_ITO["vermillion"],
    OKABE_ITO["reddish_purple"], OKABE_ITO["sky_blue"], OKABE_ITO["black"], OKABE_ITO["grey"],
)


# A marker shape per broad group, so groups are told apart without colour (WCAG 1.4.1): under
# deuteranopia Mixed (reddish purple) and Not stated (grey) look alike, their shapes do not. A detailed
# group takes its broad group's shape (its colour shade and axis label tell it from its siblings).
BROAD_SYMBOLS: dict[str, str] = {
    "Asian": "square", "Black": "circle", "Mixed": "diamond", "White": "triangle-up", "Other": "star",
    vocab.NOT_STATED: "x",
}
UNKNOWN_SYMBOL = "cross"


def group_symbol(group: str) -> str:
    """The plotly marker symbol of a group (broad or detailed); 'cross' for a name no table knows."""
    group = str(group)
    if group in BROAD_SYMBOLS:
        return BROAD_SYMBOLS[group]
    broad = vocab.DETAILED_GROUPS.get(group)
    return BROAD_SYMBOLS.get(broad, UNKNOWN_SYMBOL) if broad else UNKNOWN_SYMBOL


def group_colour(group: str) -> str:
    """The colour of a group (broad or detailed); dark grey for a name no table knows."""
    return GROUP_COLOURS.get(str(group), UNKNOWN_COLOUR)


def rgba(hex_colour: str, alpha: float) -> str:
    """'#RRGGBB' -> 'rgba(r,g,b,alpha)' (for interval bands)."""
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"
