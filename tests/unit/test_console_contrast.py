"""The console's colours pass WCAG 2.x AA, computed from the custom properties in functions/api/console/app.css.

app.css names its colours in pairs: every --X-fg is text drawn on --X-bg, or, without an --X-bg of its own,
on --page-bg and on --surface-bg; --*-ring and --*-line are marks (focus ring, now-line, borders) drawn on
the page, on surfaces and on the grid's four kinds of cell. The dark scheme overrides the light one.
tests/e2e/test_console.py checks the colours as rendered as well.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CSS = Path(__file__).resolve().parents[2] / "functions" / "api" / "console" / "app.css"
TEXT_AA = 4.5
NON_TEXT_AA = 3.0
MARK_BACKGROUNDS = ("--page-bg", "--surface-bg", "--programme-bg", "--event-bg", "--block-bg", "--filler-bg")
PROPERTY = re.compile(r"(--[a-z0-9-]+)\s*:\s*(#[0-9a-fA-F]{6})\s*;")


def schemes() -> dict[str, dict[str, str]]:
    text = CSS.read_text()
    light_block = re.search(r":root\s*\{(.*?)\}", text, re.S)
    dark_block = re.search(r"@media\s*\(prefers-color-scheme:\s*dark\)\s*\{\s*:root\s*\{(.*?)\}", text, re.S)
    assert light_block and dark_block, "app.css has a :root block and a dark-scheme :root block"
    light = dict(PROPERTY.findall(light_block.group(1)))
    return {"light": light, "dark": light | dict(PROPERTY.findall(dark_block.group(1)))}


def luminance(hex_colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def pairs(colours: dict[str, str]) -> list[tuple[str, str, float]]:
    found = []
    for name in colours:
        if name.endswith("-fg"):
            own = name[: -len("-fg")] + "-bg"
            for background in [own] if own in colours else ["--page-bg", "--surface-bg"]:
                found.append((name, background, TEXT_AA))
        elif name.endswith(("-ring", "-line")):
            found.extend((name, background, NON_TEXT_AA) for background in MARK_BACKGROUNDS)
    return found


def test_contrast_formula_matches_wcag_reference_values():
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)  # the lightest AA grey on white


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_colour_pair_passes_wcag_aa(scheme):
    colours = schemes()[scheme]
    checked = pairs(colours)
    assert len(checked) >= 20  # the convention is in use, not an empty match
    failures = [
        f"{fg} {colours[fg]} on {bg} {colours[bg]}: {contrast(colours[fg], colours[bg]):.2f} < {need}"
        for fg, bg, need in checked
        if contrast(colours[fg], colours[bg]) < need
    ]
    assert failures == []
