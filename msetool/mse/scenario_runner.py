"""Run a :class:`msetool.scenario.Scenario` (the oracle's case.json format) through the model.

Each top-level operation becomes one step with the same shape as the oracle's golden steps: the step's
error (an append that ended in the append error algorithm), the DOMException a call threw, the DOM
events, warnings, and the state after the step (``mediaSource``, ``sourceBuffers``, ``video``).

Timing follows the page: ``append`` and ``remove`` wait for ``updateend`` unless they sit in a ``batch``,
where calls run back to back while earlier appends are still pending (so setters throw
InvalidStateError, and ``abort()`` cancels a pending append before any of its bytes are parsed); pending
work completes at the end of the batch, before the step's state is taken.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from msetool.errors import UsageError
from msetool.mse.events import DOMException, Warning
from msetool.mse.media_source import MediaSource
from msetool.mse.ranges import TimeRanges
from msetool.mse.source_buffer import SourceBuffer, _num
from msetool.scenario import Op, Scenario, number

Reader = Callable[[Path, int | None, int | None], bytes]


def read_file(path: Path, start: int | None, end: int | None) -> bytes:
    try:
        with path.open("rb") as fh:
            if start:
                fh.seek(start)
            return fh.read() if end is None else fh.read(max(0, end - (start or 0)))
    except OSError as e:
        raise UsageError(f"{path}: cannot read: {e.strerror or e}") from None


class ScenarioRunner:
    def __init__(self, scenario: Scenario, profile: str = "chromium", reader: Reader = read_file) -> None:
        self.scenario = scenario
        self.ms = MediaSource(profile)
        self.reader = reader
        self.failed_sbs: dict[str, str] = {}
        self.setup: list[dict[str, Any]] = []
        self.order: list[SourceBuffer] = []
        for spec in scenario.source_buffers:
            try:
                self.ms.add_source_buffer(spec.id, spec.type)
                self.setup.append({"id": spec.id, "type": spec.type, "ok": True})
            except DOMException as e:
                self.failed_sbs[spec.id] = e.name
                self.setup.append(
                    {"id": spec.id, "type": spec.type, "ok": False, "exception": e.name, "message": e.message}
                )
        self.sb_objects = {sb.id: sb for sb in self.ms.source_buffers}
        self.default_sb = scenario.source_buffers[0].id if scenario.source_buffers else None

    # -- running -----------------------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        steps = [self.step(i, op) for i, op in enumerate(self.scenario.ops)]
        return {
            "scenario": self.scenario.id,
            "profile": self.ms.profile.name,
            "setup": {"addSourceBuffer": self.setup, "state": None},
            "steps": steps,
        }

    def step(self, index: int, op: Op) -> dict[str, Any]:
        ms = self.ms
        ms.events.clear()
        ms.warnings.clear()
        ms.last_append_error = None
        gaps_before = self._gaps()
        exc: DOMException | None = None
        batch: list[dict[str, Any]] | None = None
        if op.op == "batch":
            batch = []
            for inner in op.ops:
                e = self._exec(inner, wait=inner.args.get("wait") is True)
                batch.append(
                    {
                        "op": inner.to_json(),
                        "exception": e.name if e else None,
                        "exceptionMessage": e.message if e else None,
                    }
                )
            self._run_all_pending()
        else:
            exc = self._exec(op, wait=op.args.get("wait", True) is not False)
            if op.op == "waitIdle":
                self._run_all_pending()
        self._gap_warnings(gaps_before)
        err = ms.last_append_error
        out: dict[str, Any] = {
            "index": index,
            "op": op.to_json(),
            "error": err.to_json() if err else None,
            "exception": exc.name if exc else None,
            "exceptionMessage": exc.message if exc else None,
            "events": [e.to_json() for e in ms.events],
            "warnings": [w.to_json() for w in ms.warnings],
            "state": self.state(),
        }
        if batch is not None:
            out["batch"] = batch
        return out

    def _sb(self, op: Op) -> SourceBuffer:
        sb_id = op.sb or self.default_sb
        if sb_id in self.failed_sbs:
            raise DOMException(
                self.failed_sbs[sb_id],
                f"no SourceBuffer {sb_id!r}: addSourceBuffer() threw {self.failed_sbs[sb_id]}",
            )
        sb = self.sb_objects.get(sb_id or "")
        if sb is None:
            raise UsageError(f"scenario: no source buffer {sb_id!r}")
        return sb

    def _exec(self, op: Op, wait: bool) -> DOMException | None:
        try:
            self._dispatch(op, wait)
        except DOMException as e:
            return e
        return None

    def _dispatch(self, op: Op, wait: bool) -> None:
        ms, a = self.ms, op.args
        if op.op == "append":
            sb = self._sb(op)
            path = self.scenario.file_path(a["file"])
            rng = a.get("range")
            start, end = (int(rng[0]), int(rng[1])) if rng else (None, None)
            data = self.reader(path, start, end)
            sb.append_buffer(data, a["file"], start or 0)
            self._schedule(sb, wait)
        elif op.op == "remove":
            sb = self._sb(op)
            sb.remove(number(a["start"]), number(a["end"]))
            self._schedule(sb, wait)
        elif op.op == "abort":
            self._sb(op).abort()
        elif op.op == "changeType":
            ms.change_type(self._sb(op), str(a["type"]))
        elif op.op == "endOfStream":
            ms.end_of_stream(a.get("error"))
        elif op.op == "set":
            for key, value in a.items():
                if key in ("sb", "wait"):
                    continue
                if key == "duration":
                    ms.set_duration(number(value))
                    continue
                sb = self._sb(op)
                if key == "mode":
                    sb.set_mode(str(value))
                elif key == "timestampOffset":
                    sb.set_timestamp_offset(number(value))
                elif key == "appendWindowStart":
                    sb.set_append_window_start(number(value))
                elif key == "appendWindowEnd":
                    sb.set_append_window_end(number(value))
                else:
                    raise UsageError(f"scenario: cannot set {key!r}")
        elif op.op == "waitIdle":
            pass
        else:
            raise UsageError(f"scenario: unsupported op {op.op!r}")

    def _schedule(self, sb: SourceBuffer, wait: bool) -> None:
        if sb not in self.order:
            self.order.append(sb)
        if wait:
            sb.run_pending()

    def _run_all_pending(self) -> None:
        for sb in list(self.order):
            sb.run_pending()
        self.order = [sb for sb in self.order if sb.pending]

    # -- reporting ---------------------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        ms = self.ms
        sbs: dict[str, Any] = {}
        for sb_id, sb in self.sb_objects.items():
            sbs[sb_id] = sb.state()
        buffered = ms.element_buffered()
        to_js = ms.profile.to_js
        video: dict[str, Any] = {
            "buffered": buffered.map(lambda t: _num(to_js(t))) if buffered is not None else [],
            "readyState": self._element_ready_state(buffered),
            "duration": _num(ms.duration_js()),
            "error": {"code": ms.element_error[0], "message": ms.element_error[1]}
            if ms.element_error
            else None,
        }
        return {"mediaSource": ms.state(), "sourceBuffers": sbs, "video": video}

    def _element_ready_state(self, buffered: TimeRanges | None) -> int:
        ms = self.ms
        if ms.ready_state == "closed" or not ms.have_metadata():
            return 0
        if buffered is not None and buffered.contains(0):
            return 4
        return 1

    def _gaps(self) -> dict[str, list[tuple[Any, Any]]]:
        out: dict[str, list[tuple[Any, Any]]] = {}
        for sb_id, sb in self.sb_objects.items():
            if sb.removed:
                continue
            r = sb.buffered()
            out[sb_id] = [(r[i][1], r[i + 1][0]) for i in range(len(r) - 1)]
        return out

    def _gap_warnings(self, before: dict[str, list[tuple[Any, Any]]]) -> None:
        to_js = self.ms.profile.to_js
        for sb_id, gaps in self._gaps().items():
            if gaps == before.get(sb_id, []):
                continue
            for s, e in gaps:
                if (s, e) in before.get(sb_id, []):
                    continue
                self.ms.warnings.append(
                    Warning(
                        "gap",
                        f"{sb_id}: gap in buffered [{to_js(s):.6f}, {to_js(e):.6f}) ({to_js(e - s):.3f} s): "
                        f"playback would stall at {to_js(s):.6f}",
                        to_js(s),
                        {"start": to_js(s), "end": to_js(e)},
                    )
                )


def run_scenario(scenario: Scenario, profile: str = "chromium", reader: Reader = read_file) -> dict[str, Any]:
    return ScenarioRunner(scenario, profile, reader).run()


def step_failed(step: dict[str, Any]) -> bool:
    return bool(step.get("error") or step.get("exception"))


def is_nan(v: Any) -> bool:
    return isinstance(v, float) and math.isnan(v)
