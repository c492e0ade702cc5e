"""A real browser for the tests: Debian's headless Chromium, a local page, no network.

:func:`render` opens an HTML file from ``file://`` at a given viewport width,
measures how every ``<math>`` element was laid out and optionally takes a
full-page PNG screenshot. It drives Chromium through the DevTools protocol
over a pipe (``--remote-debugging-pipe``: no port, no extra package), which
sets the viewport exactly (a headless window is never narrower than 500 px)
and runs the measuring script from outside the page: the page itself needs
no script, and is not modified.

Chromium runs with a fresh profile (``--user-data-dir``) and with the
background services that could reach the network switched off. Every URL the
page requested is recorded in :attr:`Layout.requests`, so a test can check
that a self-contained page loads nothing.

Typical use::

    layout = render(Path("build/llmsym-cheatsheet.html"), 390, screenshot=Path("s.png"))
    assert not layout.overflows and problems(layout) == []
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
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
    "--remote-debugging-pipe",
]
TIMEOUT_S = 60.0
PHONE_BELOW = 600  # narrower viewports are emulated as a phone (meta viewport honoured)

# Runs in the page once fonts are ready; every box is in CSS pixels, page coordinates.
_MEASURE_JS = r"""
(async function () {
  if (document.fonts && document.fonts.ready) await document.fonts.ready;
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
              movable: !!first && first.getAttribute('movablelimits') === 'true',
              accent: e.getAttribute('accent') === 'true'
                      || e.getAttribute('accentunder') === 'true'};
    });
  }
  function scroller(m) {
    for (var p = m.parentElement; p && p !== document.body; p = p.parentElement) {
      var x = getComputedStyle(p).overflowX;
      if (x === 'auto' || x === 'scroll') return p;
    }
    return null;
  }
  var doc = document.documentElement;
  var maths = Array.prototype.slice.call(document.getElementsByTagName('math'));
  return JSON.stringify({
    viewport: {width: doc.clientWidth, height: innerHeight, innerWidth: innerWidth},
    page: {scrollWidth: doc.scrollWidth, scrollHeight: doc.scrollHeight},
    maths: maths.map(function (m, i) {
      var s = scroller(m);
      var toks = Array.prototype.slice.call(m.querySelectorAll('mi,mn,mo,mtext'));
      return {
        index: i,
        id: m.id || (m.parentElement && m.parentElement.id) || '',
        block: m.getAttribute('display') === 'block',
        cssDisplay: getComputedStyle(m).display,
        box: box(m),
        scroller: s ? box(s) : null,
        scrollerOverflows: s ? s.scrollWidth > s.clientWidth : false,
        tokens: toks.length,
        // Invisible operators (function application) have no box; a combining mark used as
        // an accent is drawn but its box has no width in Chromium, so it needs height only.
        zeroTokens: toks.filter(function (t) {
          var r = t.getBoundingClientRect(), s = t.textContent.trim();
          if (!s || /^[\u2061-\u2064]$/.test(s)) return false;
          if (/^\p{M}+$/u.test(s)) return r.height === 0;
          return r.width === 0 || r.height === 0;
        }).length,
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
  });
})()
"""


class BrowserMissing(RuntimeError):
    """No Chromium on this machine (install Debian's ``chromium``)."""


@dataclass
class Layout:
    """What Chromium made of a page at one width."""

    width: int
    viewport: dict
    page: dict
    maths: list[dict] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
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


def _high(fd: int) -> int:
    """``fd`` moved to a number of at least 10 (the old one is closed)."""
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return moved


class _DevTools:
    """One headless Chromium and its DevTools pipe: commands out, replies and events in."""

    def __init__(self, profile: Path) -> None:
        to_chrome, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome = os.pipe()
        to_chrome, from_chrome = _high(to_chrome), _high(from_chrome)  # clear of fds 3 and 4
        env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
        env["HOME"] = str(profile)  # nothing of the user's profile or caches is read or written

        def pipe_fds() -> None:  # in the child: Chromium reads commands on 3, replies on 4
            os.dup2(to_chrome, 3)
            os.dup2(from_chrome, 4)

        self.process = subprocess.Popen(
            [chromium(), *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            close_fds=False, preexec_fn=pipe_fds, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        os.close(to_chrome)
        os.close(from_chrome)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict] = []

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        """Run one command and wait for its reply (events seen meanwhile are kept)."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._receive()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"chromium: {method} failed: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str) -> dict:
        """The next event named ``method``."""
        for k, event in enumerate(self.events):
            if event.get("method") == method:
                return self.events.pop(k)
        while True:
            event = self._receive()
            if event.get("method") == method:
                return event
            self.events.append(event)

    def _receive(self) -> dict:
        deadline = time.monotonic() + TIMEOUT_S
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._from_chrome], [], [], max(left, 0))
            if not ready:
                raise TimeoutError(f"chromium did not answer within {TIMEOUT_S:.0f} s")
            chunk = os.read(self._from_chrome, 1 << 20)
            if not chunk:
                err = self.process.stderr.read().decode(errors="replace")[-2000:]
                raise RuntimeError(f"chromium closed its DevTools pipe: {err}")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, 9)  # our own session: Chromium and its helpers
            self.process.wait()
        os.close(self._to_chrome)
        os.close(self._from_chrome)
        if self.process.stderr:
            self.process.stderr.close()


def render(page: Path, width: int, screenshot: Path | None = None,
           height: int = 900) -> Layout:
    """Open ``page`` in a ``width`` x ``height`` viewport; measure every ``<math>``.

    With ``screenshot``, a PNG of the whole page (``width`` pixels wide) is written there.
    """
    url = Path(page).resolve().as_uri()
    with tempfile.TemporaryDirectory(prefix="llmsym-browser-") as profile:
        tools = _DevTools(Path(profile))
        try:
            return _render(tools, url, width, height, screenshot)
        finally:
            tools.close()


def _render(tools: _DevTools, url: str, width: int, height: int,
            screenshot: Path | None) -> Layout:
    target = next(t for t in tools.send("Target.getTargets")["targetInfos"]
                  if t["type"] == "page")
    session = tools.send("Target.attachToTarget",
                         {"targetId": target["targetId"], "flatten": True})["sessionId"]
    tools.send("Page.enable", session=session)
    tools.send("Network.enable", session=session)
    tools.send("Emulation.setDeviceMetricsOverride",
               {"width": width, "height": height, "deviceScaleFactor": 1,
                "mobile": width < PHONE_BELOW}, session=session)
    tools.send("Page.navigate", {"url": url}, session=session)
    tools.wait_for("Page.loadEventFired")
    result = tools.send("Runtime.evaluate", {"expression": _MEASURE_JS, "awaitPromise": True,
                                             "returnByValue": True}, session=session)
    if "exceptionDetails" in result:
        raise RuntimeError(f"the measuring script failed: {result['exceptionDetails']}")
    data = json.loads(result["result"]["value"])
    requests = [e["params"]["request"]["url"] for e in tools.events
                if e.get("method") == "Network.requestWillBeSent"]
    layout = Layout(width, data["viewport"], data["page"], data["maths"], requests)
    if screenshot is not None:
        clip = {"x": 0, "y": 0, "width": width, "height": data["page"]["scrollHeight"],
                "scale": 1}
        shot = tools.send("Page.captureScreenshot",
                          {"format": "png", "captureBeyondViewport": True, "clip": clip},
                          session=session)
        screenshot = Path(screenshot)
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        screenshot.write_bytes(base64.b64decode(shot["data"]))
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
    if part["accent"]:  # \\underline: the mark may be a zero-width combining character
        return None if kids and _nonzero(kids[0]) else f"an accent {tag} over an empty box"
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
