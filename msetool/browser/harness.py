"""Run a scenario in real headless Chromium and record what the browser reports after every operation.

This is the edge of msetool where a browser lives: nothing else spawns one. The page
(``assets/harness.html``) drives a ``MediaSource`` on a ``<video>``; Python feeds it one operation at a
time, lets the browser settle, then reads the state back. The browser's own media log (what
chrome://media-internals shows) comes from the DevTools Protocol ``Media`` domain on a CDP session,
because it is not reachable from page script. The record has the shape of the oracle's golden files
(docs/verify.md), so a run can be compared with them field by field.

Pages are served by Playwright request routing on a fake origin, so no port is opened and nothing
outside the scenario's own files is reachable.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from msetool.errors import BrowserError, UsageError
from msetool.scenario import Op, Scenario

#: Flags every launch uses: headless, no sandbox (containers), and no background traffic at all.
CHROMIUM_ARGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
#: Where Debian, Ubuntu and most distributions put Chromium; MSETOOL_CHROMIUM overrides.
CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "chromium", "chromium-browser")
INSTALL_HINT = (
    "install it with `apt-get install -y chromium` (or point MSETOOL_CHROMIUM at a Chromium binary)"
)
ORIGIN = "http://msetool.test"
SCHEMA = 1


@dataclass(frozen=True, slots=True)
class Settle:
    """How long to let the browser settle after an operation before reading its state.

    Media events (``progress``, ``loadeddata``, media log entries) arrive asynchronously after
    ``updateend``; a step ends once nothing new has happened for ``quiet_ms``, but never before
    ``min_ms`` nor after ``max_ms``.
    """

    quiet_ms: int = 200
    min_ms: int = 50
    max_ms: int = 1000
    #: Before the first operation (the media player and its log are created asynchronously).
    setup_max_ms: int = 2000
    #: An append or remove that never ends (no ``updateend``) is recorded as ``how: "timeout"``.
    update_timeout_ms: int = 10000
    poll_ms: int = 25
    #: Chromium batches its media log and sends it at most once a second (BatchingMediaLog); after a
    #: step that did anything, wait up to ``media_log_ms`` for the batch carrying that step's entries.
    #: 0 skips the wait (faster, but log entries may land in a later step).
    media_log_ms: int = 1100


def find_chromium(explicit: str | None = None) -> str | None:
    """The Chromium binary to drive: an explicit path, $MSETOOL_CHROMIUM, or a usual install location."""
    for cand in (explicit, os.environ.get("MSETOOL_CHROMIUM"), *CANDIDATES):
        if not cand:
            continue
        if os.path.isabs(cand):
            if os.path.isfile(cand) and os.access(cand, os.X_OK):
                return cand
            if cand in (explicit, os.environ.get("MSETOOL_CHROMIUM")):
                return None
            continue
        found = shutil.which(cand)
        if found:
            return found
    return None


def page_html() -> bytes:
    return resources.files("msetool.browser").joinpath("assets/harness.html").read_bytes()


def appended_files(ops: tuple[Op, ...]) -> list[str]:
    """Every file name the operations append, in first-use order."""
    out: list[str] = []

    def walk(seq: tuple[Op, ...]) -> None:
        for op in seq:
            if op.op == "append":
                name = str(op.args["file"])
                if name not in out:
                    out.append(name)
            walk(op.ops)

    walk(ops)
    return out


def change_types(ops: tuple[Op, ...]) -> list[str]:
    """Every type a changeType() operation switches to, in first-use order."""
    out: list[str] = []

    def walk(seq: tuple[Op, ...]) -> None:
        for op in seq:
            if op.op == "changeType" and str(op.args.get("type")) not in out:
                out.append(str(op.args.get("type")))
            walk(op.ops)

    walk(ops)
    return out


def _media_log_entries(method: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """CDP Media domain notifications -> media log entries, one per property/event/message/error."""
    if method == "Media.playerPropertiesChanged":
        for p in params.get("properties", []):
            yield {"kind": "property", "name": p.get("name"), "value": p.get("value")}
    elif method == "Media.playerEventsAdded":
        for e in params.get("events", []):
            yield {"kind": "event", "value": e.get("value")}
    elif method == "Media.playerMessagesLogged":
        for m in params.get("messages", []):
            yield {"kind": "message", "level": m.get("level"), "message": m.get("message")}
    elif method == "Media.playerErrorsRaised":
        for err in params.get("errors", []):
            yield {"kind": "error", "error": err}


class _Run:
    """One scenario on one page: the bookkeeping that ties asynchronous callbacks to the current step."""

    def __init__(self, page: Any, scenario: Scenario, settle: Settle) -> None:
        self.page = page
        self.scenario = scenario
        self.settle_cfg = settle
        self.op: int | str = "setup"
        self.media_log: list[dict[str, Any]] = []
        self.console: list[dict[str, Any]] = []
        self.activity = time.monotonic()
        #: When the last media log batch arrived (CDP delivers one notification per batch and kind).
        self.last_batch = 0.0

    def on_media(self, method: str) -> Any:
        def handler(params: dict[str, Any]) -> None:
            for entry in _media_log_entries(method, params):
                self.media_log.append({"op": self.op, **entry})
            self.activity = self.last_batch = time.monotonic()

        return handler

    def on_console(self, msg: Any) -> None:
        self.console.append({"op": self.op, "type": msg.type, "text": msg.text})

    def on_page_error(self, err: Any) -> None:
        self.console.append({"op": self.op, "type": "pageerror", "text": str(err)})

    def settle(self, max_ms: int, started: float, seq0: int, errors0: int) -> None:
        """Wait until neither the page nor the media log has produced anything for ``quiet_ms``.

        ``started``/``seq0`` are the time and event counter when the step began: a step that fired any
        DOM event also waits (up to ``media_log_ms`` from its start) for a media log batch sent after it
        began, so the browser's own messages land in the step that caused them. A step that fired an
        ``error`` waits until the media log has been silent for ``media_log_ms``: Chromium sends at most
        one batch a second, so the rest of the error's messages (parser, demuxer, pipeline status) cannot
        still be queued then.
        """
        cfg = self.settle_cfg
        start = time.monotonic()
        seq = self.page.evaluate("H.seq")
        self.activity = max(self.activity, start)
        while True:
            self.page.wait_for_timeout(cfg.poll_ms)
            now = time.monotonic()
            cur, errors = self.page.evaluate("[H.seq, H.errors]")
            if cur != seq:
                seq = cur
                self.activity = now
            elapsed = (now - start) * 1000
            quiet = (now - self.activity) * 1000
            failed = errors > errors0
            limit = max_ms + (2 * cfg.media_log_ms if failed else 0)
            if elapsed >= limit:
                return
            if elapsed < cfg.min_ms or quiet < cfg.quiet_ms:
                continue
            busy = seq != seq0
            log_due = (now - started) * 1000 < cfg.media_log_ms and self.last_batch < started
            if busy and log_due:
                continue
            if (
                failed
                and cfg.media_log_ms
                and (now - max(self.last_batch, started)) * 1000 < cfg.media_log_ms
            ):
                continue
            return

    def step_log(self, index: int | str) -> list[dict[str, Any]]:
        return [{k: v for k, v in e.items() if k != "op"} for e in self.media_log if e["op"] == index]


def _route_handler(html: bytes, scenario: Scenario, names: list[str]) -> Any:
    allowed = set(names)

    def handle(route: Any) -> None:
        path = unquote(urlsplit(route.request.url).path)
        if path in ("/", "/index.html"):
            route.fulfill(status=200, body=html, headers={"content-type": "text/html; charset=utf-8"})
            return
        if path.startswith("/files/") and path[len("/files/") :] in allowed:
            data = scenario.file_path(path[len("/files/") :]).read_bytes()
            route.fulfill(status=200, body=data, headers={"content-type": "application/octet-stream"})
            return
        route.fulfill(status=404, body=b"not found")

    return handle


class ChromiumHarness:
    """A headless Chromium kept open across scenarios (one new page per scenario).

    Use as a context manager; :meth:`run` returns the golden-shaped record of one scenario.
    """

    def __init__(
        self, executable: str | None = None, settle: Settle | None = None, *, browser: Any = None
    ) -> None:
        """``browser``: an already launched Playwright Browser to borrow (it is left open on close)."""
        self.settle = settle or Settle()
        self._pw: Any = None
        self._browser: Any = browser
        self._borrowed = browser is not None
        if browser is not None:
            self.executable = executable or ""
            return
        exe = find_chromium(executable)
        if exe is None:
            where = executable or os.environ.get("MSETOOL_CHROMIUM") or "/usr/bin/chromium"
            raise BrowserError(f"Chromium not found at {where}: {INSTALL_HINT}")
        self.executable = exe

    def __enter__(self) -> ChromiumHarness:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        if self._browser is not None:
            return
        try:
            from playwright.sync_api import sync_playwright
        except ImportError:
            raise BrowserError("the Python package 'playwright' is missing: pip install playwright") from None
        try:
            self._pw = sync_playwright().start()
            self._browser = self._pw.chromium.launch(
                executable_path=self.executable, args=list(CHROMIUM_ARGS)
            )
        except Exception as e:
            self.close()
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise BrowserError(f"cannot start Chromium at {self.executable}: {first}") from None

    def close(self) -> None:
        if self._borrowed:
            return
        if self._browser is not None:
            with contextlib.suppress(Exception):
                self._browser.close()
            self._browser = None
        if self._pw is not None:
            with contextlib.suppress(Exception):
                self._pw.stop()
            self._pw = None

    @property
    def version(self) -> str:
        self.start()
        return f"Chromium {self._browser.version}"

    def run(self, scenario: Scenario) -> dict[str, Any]:
        """Run every operation of ``scenario`` and return the record (docs/verify.md, "browser record")."""
        names = appended_files(scenario.ops)
        missing = [n for n in names if not scenario.file_path(n).is_file()]
        if missing:
            raise UsageError(f"{scenario.base}: scenario appends missing file(s): {', '.join(missing)}")
        self.start()
        wall0 = time.monotonic()
        context = self._browser.new_context()
        try:
            return self._run_in(context, scenario, names, wall0)
        except BrowserError:
            raise
        except Exception as e:
            if type(e).__name__ in ("Error", "TimeoutError") and type(e).__module__.startswith("playwright"):
                first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
                raise BrowserError(f"browser run of {scenario.id} failed: {first}") from None
            raise
        finally:
            with contextlib.suppress(Exception):
                context.close()

    def _run_in(self, context: Any, scenario: Scenario, names: list[str], wall0: float) -> dict[str, Any]:
        cfg = self.settle
        page = context.new_page()
        run = _Run(page, scenario, cfg)
        page.on("console", run.on_console)
        page.on("pageerror", run.on_page_error)
        page.route(f"{ORIGIN}/**", _route_handler(page_html(), scenario, names))
        cdp = context.new_cdp_session(page)
        for method in (
            "Media.playerPropertiesChanged",
            "Media.playerEventsAdded",
            "Media.playerMessagesLogged",
            "Media.playerErrorsRaised",
        ):
            cdp.on(method, run.on_media(method))
        cdp.send("Media.enable")
        page.goto(f"{ORIGIN}/index.html")
        page.wait_for_function("window.H && window.H.ready === true")
        t0 = time.monotonic()
        page.evaluate("names => H.load(names)", names)
        specs = [{"id": sb.id, "type": sb.type} for sb in scenario.source_buffers]
        seq0, err0 = page.evaluate("[H.seq, H.errors]")
        setup = page.evaluate("([specs, more]) => H.setup(specs, more)", [specs, change_types(scenario.ops)])
        run.settle(cfg.setup_max_ms, t0, seq0, err0)
        setup["state"] = page.evaluate("H.state()")

        steps: list[dict[str, Any]] = []
        for i, op in enumerate(scenario.ops):
            run.op = i
            started = time.monotonic()
            seq0, err0 = page.evaluate("[H.seq, H.errors]")
            rec = page.evaluate("([op, i, t]) => H.step(op, i, t)", [op.to_json(), i, cfg.update_timeout_ms])
            run.settle(max(cfg.max_ms, cfg.media_log_ms), started, seq0, err0)
            events = page.evaluate("i => H.eventsOf(i)", i)
            step: dict[str, Any] = {"index": i, "op": op.to_json(), "exception": rec.get("exception")}
            if "batch" in rec:
                step["batch"] = rec["batch"]
            if "wait" in rec:
                step["wait"] = rec["wait"]
            if "bytes" in rec:
                step["bytes"] = rec["bytes"]
            step["elapsed_ms"] = rec.get("elapsed_ms")
            step["state"] = page.evaluate("H.state()")
            step["events"] = events
            step["sbErrorEvent"] = any(
                e["type"] == "error" and str(e["target"]).startswith("sb:") for e in events
            )
            step["mediaLog"] = run.step_log(i)
            steps.append(step)
        run.op = "final"
        seq0, err0 = page.evaluate("[H.seq, H.errors]")
        run.settle(cfg.max_ms, time.monotonic(), seq0, err0)
        final = page.evaluate("H.state()")
        all_events = page.evaluate("H.events")
        return {
            "schema": SCHEMA,
            "case": scenario.id,
            "browser": self.version,
            "sourceBuffers": specs,
            "ok": True,
            "mediaLog": run.media_log,
            "console": run.console,
            "mediaLogCapture": "cdp Media domain",
            "setup": setup,
            "steps": steps,
            "final": final,
            "events": all_events,
            "seconds": round(time.monotonic() - t0, 2),
            "wall_seconds": round(time.monotonic() - wall0, 2),
        }


def run_scenario(
    scenario: Scenario, executable: str | None = None, settle: Settle | None = None
) -> dict[str, Any]:
    """Run one scenario in a browser started for it alone (see :class:`ChromiumHarness` to share one)."""
    with ChromiumHarness(executable, settle) as h:
        return h.run(scenario)


def load_golden(path: str | Path) -> dict[str, Any]:
    import json

    data: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    return data
