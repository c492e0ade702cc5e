"""The web page in a real browser: headless Chromium opens it from ``file://``.

The page is rendered from the session's verification of every derivation
(``full_report``; whatever verifies today, with the face rules not enforced, so
a derivation being rewritten does not hide the page's own problems). At 1280
and 390 px it checks that every formula is laid out as MathML (non-zero
boxes, fractions and radicals drawn as such), that the page loads nothing but
itself and never scrolls sideways, that a link to a claim's number or name
lands on the claim, and that the optional search script runs under the page's
Content-Security-Policy. Set ``LLMSYM_SCREENSHOTS`` to a folder to keep the
screenshots (otherwise they go to pytest's temporary folder).
"""

from __future__ import annotations

import json
import os
import struct
import tempfile
from pathlib import Path

import browser as harness
import pytest
from browser import BrowserMissing, chromium, problems, render

from llmsym.sheet.arrange import BuildInfo, sheet_context
from llmsym.sheet.html import write_html

WIDTHS = [1280, 390]


@pytest.fixture(scope="module")
def browser() -> str:
    try:
        return chromium()
    except BrowserMissing as missing:
        if os.environ.get("CI"):
            raise  # CI must run the browser tests, not skip them
        pytest.skip(str(missing))


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    keep = os.environ.get("LLMSYM_SCREENSHOTS")
    folder = Path(keep) if keep else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def info(full_report) -> BuildInfo:
    return BuildInfo("0.1.0", "2026-01-01", "abcdef1234", "a4", True, full_report.versions)


@pytest.fixture(scope="module")
def page_file(full_report, info, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("html") / "llmsym-cheatsheet.html"
    return write_html(full_report, info, path, enforce=False)


@pytest.fixture(scope="module")
def face(full_report, info) -> list[dict]:
    context = sheet_context(full_report, info, enforce=False)
    entries = [e for t in context["topics"] for e in t["entries"]]
    assert entries, "nothing is on the face"
    return entries


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


def run_in_page(url: str, width: int, script: str) -> object:
    """Open ``url`` at ``width`` in the harness's Chromium, run ``script`` (an expression
    whose value is JSON text) once the page has loaded, and return its parsed value."""
    with tempfile.TemporaryDirectory(prefix="llmsym-browser-") as profile:
        tools = harness._DevTools(Path(profile))
        try:
            target = next(t for t in tools.send("Target.getTargets")["targetInfos"]
                          if t["type"] == "page")
            session = tools.send("Target.attachToTarget",
                                 {"targetId": target["targetId"], "flatten": True})["sessionId"]
            tools.send("Page.enable", session=session)
            tools.send("Emulation.setDeviceMetricsOverride",
                       {"width": width, "height": 800, "deviceScaleFactor": 1,
                        "mobile": width < harness.PHONE_BELOW}, session=session)
            tools.send("Page.navigate", {"url": url}, session=session)
            tools.wait_for("Page.loadEventFired")
            result = tools.send("Runtime.evaluate",
                                {"expression": script, "awaitPromise": True,
                                 "returnByValue": True}, session=session)
            assert "exceptionDetails" not in result, result["exceptionDetails"]
            return json.loads(result["result"]["value"])
        finally:
            tools.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_page_is_laid_out_as_mathml_and_fits_the_screen(browser, page_file, shots, width):
    shot = shots / f"html-page-{width}.png"
    layout = render(page_file, width, screenshot=shot)
    assert layout.viewport["width"] == width
    assert png_size(shot)[0] == width
    assert problems(layout) == []
    assert not layout.overflows, f"the page scrolls sideways at {width} px"
    assert layout.requests == [page_file.resolve().as_uri()]  # the page and nothing else
    source = page_file.read_text(encoding="utf-8")
    assert len(layout.maths) == source.count("<math")
    fractions = sum(len(m["mfrac"]) for m in layout.maths)
    radicals = sum(len(m["msqrt"]) + len(m["mroot"]) for m in layout.maths)
    assert fractions == source.count("<mfrac") > 0  # each one judged by problems() above
    assert radicals == source.count("<msqrt") + source.count("<mroot") > 0
    wide = [m for m in layout.maths if m["block"] and m["scrollerOverflows"]]
    assert all(m["scroller"] for m in wide)  # a wide formula scrolls in its own box


@pytest.mark.parametrize("width", WIDTHS)
def test_a_link_to_a_number_or_a_name_lands_on_the_claim(browser, page_file, face, width):
    entry = face[len(face) // 2]
    for fragment in (entry["number"], entry["anchor"]):
        url = page_file.resolve().as_uri() + "#" + fragment
        found = run_in_page(url, width, f"""JSON.stringify((function () {{
            var target = document.getElementById({json.dumps(entry["anchor"])});
            var r = target.getBoundingClientRect();
            return {{top: r.top, bottom: r.bottom, scrolled: scrollY, height: innerHeight}};
        }})())""")
        assert found["scrolled"] > 0, fragment
        assert -2 <= found["top"] <= found["height"] / 2, (fragment, found)


def test_the_search_script_runs_and_filters_the_entries(browser, page_file, face):
    wanted = face[0]["anchor"].lower()
    found = run_in_page(page_file.resolve().as_uri(), 1280, f"""JSON.stringify((function () {{
        var form = document.getElementById('search');
        var input = document.getElementById('search-input');
        var visible = !form.hidden;
        input.value = {json.dumps(wanted)};
        input.dispatchEvent(new Event('input'));
        var items = document.getElementsByClassName('searchable'), shown = 0;
        for (var i = 0; i < items.length; i++) if (!items[i].hidden) shown++;
        input.value = 'zzzz-nothing-matches';
        input.dispatchEvent(new Event('input'));
        var none = 0;
        for (i = 0; i < items.length; i++) if (!items[i].hidden) none++;
        return {{visible: visible, total: items.length, shown: shown, none: none,
                 count: document.getElementById('search-count').textContent}};
    }})())""")
    assert found["visible"], "the search script did not run (blocked by the page's CSP?)"
    assert 0 < found["shown"] < found["total"]  # the entry (and its chain), not the rest
    assert found["none"] == 0 and found["count"].startswith("0 of")
