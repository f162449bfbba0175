"""Scenarios: source buffers plus the operations a page runs on them.

The format is the one of ../shared/oracle's ``case.json`` (documented in docs/scenario.md), so a case
recorded in a real browser runs unchanged in ``simulate``, ``validate --scenario`` and ``verify``.
Parsing is pure: the caller reads the file (JSON or YAML) and passes the decoded object.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from msetool.errors import UsageError

OPS = {"append", "set", "remove", "abort", "changeType", "endOfStream", "batch", "waitIdle"}
SETTABLE = ("mode", "timestampOffset", "appendWindowStart", "appendWindowEnd", "duration")


@dataclass(frozen=True, slots=True)
class SourceBufferSpec:
    id: str
    type: str


@dataclass(frozen=True, slots=True)
class Op:
    """One operation; ``args`` keeps the case's keys verbatim (file, range, sb, start, end, type, ...)."""

    op: str
    args: dict[str, Any] = field(default_factory=dict)
    ops: tuple[Op, ...] = ()

    @property
    def sb(self) -> str | None:
        v = self.args.get("sb")
        return str(v) if v is not None else None

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"op": self.op, **self.args}
        if self.op == "batch":
            d["ops"] = [o.to_json() for o in self.ops]
        return d


@dataclass(frozen=True, slots=True)
class Scenario:
    id: str
    source_buffers: tuple[SourceBufferSpec, ...]
    ops: tuple[Op, ...]
    #: Folder the ``file`` names are relative to.
    base: Path
    description: str = ""

    def file_path(self, name: str) -> Path:
        return self.base / name


def number(v: Any) -> float:
    """Scenario numbers may be the strings "Infinity", "-Infinity", "NaN" (JSON has no such literals)."""
    if isinstance(v, str):
        table = {"infinity": math.inf, "+infinity": math.inf, "-infinity": -math.inf, "nan": math.nan}
        if v.strip().lower() in table:
            return table[v.strip().lower()]
        try:
            return float(v)
        except ValueError:
            raise UsageError(f"scenario: {v!r} is not a number") from None
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise UsageError(f"scenario: {v!r} is not a number")
    return float(v)


def _op(raw: Any, where: str) -> Op:
    if not isinstance(raw, dict) or "op" not in raw:
        raise UsageError(f"scenario: {where} must be an object with an 'op' key")
    name = raw["op"]
    if name not in OPS:
        raise UsageError(f"scenario: {where}: unknown op {name!r} (expected one of {', '.join(sorted(OPS))})")
    args = {k: v for k, v in raw.items() if k not in ("op", "ops")}
    inner: tuple[Op, ...] = ()
    if name == "batch":
        if not isinstance(raw.get("ops"), list):
            raise UsageError(f"scenario: {where}: batch needs an 'ops' list")
        inner = tuple(_op(o, f"{where}.ops[{i}]") for i, o in enumerate(raw["ops"]))
    if name == "append" and not isinstance(args.get("file"), str):
        raise UsageError(f"scenario: {where}: append needs a 'file' name")
    if name == "remove" and ("start" not in args or "end" not in args):
        raise UsageError(f"scenario: {where}: remove needs 'start' and 'end'")
    if name == "changeType" and not isinstance(args.get("type"), str):
        raise UsageError(f"scenario: {where}: changeType needs a 'type'")
    return Op(name, args, inner)


def parse_scenario(data: Any, base: Path) -> Scenario:
    if not isinstance(data, dict):
        raise UsageError("scenario: the top level must be an object")
    sbs = data.get("sourceBuffers")
    if not isinstance(sbs, list) or not sbs:
        raise UsageError("scenario: 'sourceBuffers' must be a non-empty list of {id, type}")
    specs = []
    for i, sb in enumerate(sbs):
        if not isinstance(sb, dict) or not isinstance(sb.get("type"), str):
            raise UsageError(f"scenario: sourceBuffers[{i}] needs a 'type'")
        specs.append(SourceBufferSpec(str(sb.get("id", f"sb{i}")), sb["type"]))
    ops = data.get("ops")
    if not isinstance(ops, list):
        raise UsageError("scenario: 'ops' must be a list")
    return Scenario(
        id=str(data.get("id", base.name)),
        source_buffers=tuple(specs),
        ops=tuple(_op(o, f"ops[{i}]") for i, o in enumerate(ops)),
        base=base,
        description=str(data.get("description", "")),
    )


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario file (JSON, or YAML by extension); errors name the file."""
    import json

    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise UsageError(f"{p}: cannot read scenario: {e.strerror or e}") from None
    try:
        if p.suffix.lower() in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except Exception as e:  # json.JSONDecodeError, yaml.YAMLError
        raise UsageError(f"{p}: not a valid scenario file: {e}") from None
    try:
        return parse_scenario(data, p.parent)
    except UsageError as e:
        raise UsageError(f"{p}: {e}") from None
