"""Compare two step-by-step results (browser vs simulator, or browser vs a recorded golden file).

The criteria are those of the oracle's ``score.py simulate``, so ``msetool verify`` says "same" exactly
when the scorer would: after every operation, each attached source buffer's buffered ranges (same count,
every start and end within 1 ms), the MediaSource readyState and duration (within 1 ms), and whether the
operation failed.
"""

from __future__ import annotations

import math
from typing import Any

#: Chromium keeps timestamps in whole microseconds; anything within a millisecond is the same.
TOLERANCE = 0.001


def as_number(v: Any) -> Any:
    """JSON numbers, or the strings "NaN"/"Infinity"/"-Infinity", as floats; anything else unchanged."""
    if v is None or isinstance(v, bool):
        return v
    if isinstance(v, str):
        return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}.get(v, v)
    if isinstance(v, int | float):
        return float(v)
    return v


def same_number(a: Any, b: Any, tol: float = TOLERANCE) -> bool:
    a, b = as_number(a), as_number(b)
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        if math.isinf(a) or math.isinf(b):
            return a == b
        return abs(a - b) <= tol
    return bool(a == b)


def same_ranges(a: Any, b: Any, tol: float = TOLERANCE) -> bool:
    a, b = a or [], b or []
    return len(a) == len(b) and all(
        same_number(x[0], y[0], tol) and same_number(x[1], y[1], tol) for x, y in zip(a, b, strict=False)
    )


def failed(step: dict[str, Any]) -> bool:
    """Did the operation fail: it threw, or its append ended with an error event (or, for a simulator
    step, it reports an error)."""
    wait = step.get("wait") or {}
    return bool(step.get("exception") or wait.get("error") or step.get("sbErrorEvent") or step.get("error"))


def step_differences(ours: dict[str, Any], ref: dict[str, Any], tol: float = TOLERANCE) -> list[str]:
    """What differs between two steps, as short phrases; empty when they agree."""
    why: list[str] = []
    if failed(ours) != failed(ref):
        why.append(f"failed={failed(ours)} vs reference {failed(ref)}")
    os_, rs = ours.get("state") or {}, ref.get("state") or {}
    for sb, rsb in (rs.get("sourceBuffers") or {}).items():
        osb = (os_.get("sourceBuffers") or {}).get(sb) or {}
        if rsb.get("attached", True) and not same_ranges(osb.get("buffered"), rsb.get("buffered"), tol):
            why.append(f"{sb} buffered {osb.get('buffered')} vs reference {rsb.get('buffered')}")
    oms, rms = os_.get("mediaSource") or {}, rs.get("mediaSource") or {}
    if oms.get("readyState") != rms.get("readyState"):
        why.append(f"readyState {oms.get('readyState')} vs reference {rms.get('readyState')}")
    if not same_number(oms.get("duration"), rms.get("duration"), tol):
        why.append(f"duration {oms.get('duration')} vs reference {rms.get('duration')}")
    return why
