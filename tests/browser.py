"""A real browser for the tests: Debian's headless Chromium, a local page, no network.

:func:`render` opens an HTML file from ``file://`` at a given window width,
takes a PNG screenshot and measures how every ``<math>`` element was laid
out. The page itself may need no script (the sheet must read without one):
the harness copies it to a temporary folder and injects a measuring script
into the copy, which writes its findings as JSON into the DOM; Chromium's
``--dump-dom`` hands them back. The screenshot is taken of the unmodified
copy, so what is measured and what is seen are the same layout.

Chromium runs with a fresh profile (``--user-data-dir``) and with every
background service that could reach the network switched off; the page is a
local file and is expected to load nothing else.

Typical use::

    layout = render(Path("build/llmsym-cheatsheet.html"), 390, screenshot=Path("s.png"))
    assert not layout.overflows and problems(layout) == []
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--hide-scrollbars",
    "--mute-audio",
    "--force-device-scale-factor=1",
]
# Time the page may spend on asynchronous work (web fonts) before the DOM is dumped.
VIRTUAL_TIME_MS = 5000
TIMEOUT_S = 120

_MARK = "llmsym-browser-measure"
_RESULT = re.compile(r'<script type="application/json" id="%s">(.*?)</script>' % _MARK, re.S)

# Runs in the page copy once fonts are ready; every box is in CSS pixels.
_MEASURE_JS = r"""
(function () {
  function box(el) {
    if (!el) return null;
    var r = el.getBoundingClientRect();
    return {x: r.left + scrollX, y: r.top + scrollY, w: r.width, h: r.height};
  }
  function kids(el) { return Array.prototype.slice.call(el.children); }
  function parts(el, tag) {
    return Array.prototype.slice.call(el.getElementsByTagName(tag)).map(function (e) {
      var first = e.firstElementChild;
      return {box: box(e), children: kids(e).map(box), mathStyle: getComputedStyle(e).mathStyle,
              movable: !!first && first.getAttribute('movablelimits') === 'true'};
    });
  }
  function run() {
    var doc = document.documentElement;
    var maths = Array.prototype.slice.call(document.getElementsByTagName('math'));
    var out = {
      viewport: {width: doc.clientWidth, height: innerHeight, innerWidth: innerWidth},
      page: {scrollWidth: doc.scrollWidth, scrollHeight: doc.scrollHeight,
             bodyScrollWidth: document.body.scrollWidth},
      maths: maths.map(function (m, i) {
        var overflowing = null, p = m.parentElement;
        while (p && p !== document.body) {
          var cs = getComputedStyle(p);
          if (cs.overflowX === 'auto' || cs.overflowX === 'scroll') { overflowing = p; break; }
          p = p.parentElement;
        }
        return {
          index: i,
          id: m.id || (m.parentElement && m.parentElement.id) || '',
          block: m.getAttribute('display') === 'block',
          cssDisplay: getComputedStyle(m).display,
          box: box(m),
          scroller: overflowing ? box(overflowing) : null,
          scrollerOverflows: overflowing
            ? overflowing.scrollWidth > overflowing.clientWidth : false,
          tokens: m.querySelectorAll('mi,mn,mo,mtext').length,
          zeroTokens: Array.prototype.slice.call(m.querySelectorAll('mi,mn,mo,mtext')).filter(
            function (t) { var r = t.getBoundingClientRect();
                           return t.textContent.trim() && !/^[\u2061-\u2064]$/.test(t.textContent)
                                  && (r.width === 0 || r.height === 0); }).length,
          mfrac: parts(m, 'mfrac'),
          msqrt: parts(m, 'msqrt'),
          mroot: parts(m, 'mroot'),
          munderover: parts(m, 'munderover'),
          munder: parts(m, 'munder'),
          msub: parts(m, 'msub'),
          msup: parts(m, 'msup'),
          mtable: Array.prototype.slice.call(m.getElementsByTagName('mtable')).map(function (t) {
            return {box: box(t), rows: kids(t).map(function (r) {
              return {box: box(r), cells: kids(r).map(box)}; })};
          })
        };
      })
    };
    var s = document.createElement('script');
    s.type = 'application/json';
    s.id = '%MARK%';
    s.textContent = JSON.stringify(out).replace(/</g, '\\u003c');
    document.body.appendChild(s);
  }
  if (document.fonts && document.fonts.ready) document.fonts.ready.then(run); else run();
})();
""".replace("%MARK%", _MARK)


class BrowserMissing(RuntimeError):
    """No Chromium on this machine (install Debian's ``chromium``)."""


@dataclass
class Layout:
    """What Chromium made of a page at one width."""

    width: int
    viewport: dict
    page: dict
    maths: list[dict] = field(default_factory=list)
    screenshot: Path | None = None

    @property
    def overflows(self) -> bool:
        """Whether the page scrolls sideways."""
        return self.page["scrollWidth"] > self.viewport["width"]


def chromium() -> str:
    """The Chromium executable, or :class:`BrowserMissing`."""
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise BrowserMissing(
        "Chromium is not installed: apt-get install --no-install-recommends chromium"
    )


def _run(args: list[str], profile: Path) -> str:
    cmd = [chromium(), *FLAGS, f"--user-data-dir={profile}", *args]
    env = {k: v for k, v in os.environ.items() if not k.endswith("_proxy")}
    env["HOME"] = str(profile)  # nothing of the user's profile or caches is read or written
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S, env=env,
                          check=False)
    if done.returncode != 0:
        raise RuntimeError(f"chromium exited {done.returncode}: {done.stderr[-2000:]}")
    return done.stdout


def _inject(html: str) -> str:
    tag = f"<script>{_MEASURE_JS}</script>"
    if re.search(r"</body\s*>", html, re.I):
        return re.sub(r"</body\s*>", lambda m: tag + m.group(0), html, count=1, flags=re.I)
    return html + tag


def render(page: Path, width: int, screenshot: Path | None = None,
           height: int | None = None) -> Layout:
    """Open ``page`` at ``width`` CSS pixels; measure every ``<math>``; optionally a PNG.

    The screenshot covers the whole page height unless ``height`` caps it.
    """
    html = Path(page).read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix="llmsym-browser-") as tmp:
        folder = Path(tmp)
        measured = folder / "measured.html"
        measured.write_text(_inject(html), encoding="utf-8")
        dom = _run([f"--window-size={width},{height or 900}",
                    f"--virtual-time-budget={VIRTUAL_TIME_MS}", "--dump-dom",
                    measured.as_uri()], folder / "profile-measure")
        found = _RESULT.search(dom)
        if not found:
            raise RuntimeError("the measuring script wrote nothing (did the page load?)")
        data = json.loads(found.group(1))
        layout = Layout(width, data["viewport"], data["page"], data["maths"])
        if screenshot is not None:
            plain = folder / "page.html"
            plain.write_text(html, encoding="utf-8")
            shot_height = height or max(int(data["page"]["scrollHeight"]), 100)
            screenshot = Path(screenshot).resolve()
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            _run([f"--window-size={width},{shot_height}",
                  f"--virtual-time-budget={VIRTUAL_TIME_MS}",
                  f"--screenshot={screenshot}", plain.as_uri()], folder / "profile-shot")
            if not screenshot.exists() or screenshot.stat().st_size == 0:
                raise RuntimeError(f"chromium wrote no screenshot at {screenshot}")
            layout.screenshot = screenshot
    return layout


# -- judging the layout -------------------------------------------------------

_TOLERANCE = 1.0  # px: rounding of boxes


def _nonzero(b: dict | None) -> bool:
    return bool(b) and b["w"] > 0 and b["h"] > 0


def _frac_problem(part: dict) -> str | None:
    num, den = (part["children"] + [None, None])[:2]
    if not (_nonzero(part["box"]) and _nonzero(num) and _nonzero(den)):
        return "a fraction with an empty box"
    if num["y"] + num["h"] > den["y"] + _TOLERANCE:
        return "a fraction whose numerator is not above its denominator"
    return None


def _radical_problem(part: dict) -> str | None:
    outer = part["box"]
    body = [c for c in part["children"] if c]
    if not _nonzero(outer) or not body:
        return "a radical with an empty box"
    left = min(c["x"] for c in body)
    if left - outer["x"] < 3:  # the radical sign takes room before the radicand
        return "a radical drawn without its sign"
    return None


def _limits_problem(part: dict, tag: str) -> str | None:
    """Limits below the operator in display style; movable limits to its right otherwise."""
    kids = [c for c in part["children"] if c]
    if not _nonzero(part["box"]) or len(kids) < 2 or not all(_nonzero(k) for k in kids):
        return f"an {tag} with an empty box"
    base, under = kids[0], kids[1]
    below = under["y"] + _TOLERANCE >= base["y"] + base["h"]
    beside = under["x"] + _TOLERANCE >= base["x"] + base["w"]
    if part["mathStyle"] == "compact" and part["movable"]:
        if not beside:
            return f"an inline {tag} whose movable limits are not beside the operator"
    elif not below:
        return f"an {tag} whose lower limit is not below its operator"
    return None


def problems(layout: Layout) -> list[str]:
    """Every way a formula was not laid out as MathML, one line each (empty: all good)."""
    found = []
    for m in layout.maths:
        where = f"math #{m['index']}" + (f" ({m['id']})" if m["id"] else "")
        if "math" not in m["cssDisplay"]:
            found.append(f"{where}: display is {m['cssDisplay']!r}, not MathML layout")
        if not _nonzero(m["box"]):
            found.append(f"{where}: empty box")
        if m["zeroTokens"]:
            found.append(f"{where}: {m['zeroTokens']} tokens with an empty box")
        checks = [(_frac_problem, "mfrac"), (_radical_problem, "msqrt"),
                  (_radical_problem, "mroot")]
        for judge, tag in checks:
            for part in m[tag]:
                problem = judge(part)
                if problem:
                    found.append(f"{where}: {problem}")
        for tag in ("munderover", "munder"):
            for part in m[tag]:
                problem = _limits_problem(part, tag)
                if problem:
                    found.append(f"{where}: {problem}")
    return found
