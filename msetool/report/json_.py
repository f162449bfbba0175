"""``--format json``: the Report as one JSON document (schema in docs/validate.md).

The text is exactly ``json.dumps(doc, indent=2, ensure_ascii=False)``, written here because json's
indenting encoder is its pure-Python one (a report on a folder of 1,200 segments took ~7 ms in it): strings
go through json's C escaping, the structure is joined directly. Anything but the plain JSON types the
Report produces is left to json.dumps itself.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring
from typing import Any

from msetool.report.summary import Report


class _Unusual(Exception):
    """A value json.dumps may treat differently from the fast writer (float, subclass, odd key)."""


def _write(o: Any, pad: str, out: list[str]) -> None:
    t = type(o)
    if t is str:
        out.append(encode_basestring(o))
    elif o is None:
        out.append("null")
    elif o is True:
        out.append("true")
    elif o is False:
        out.append("false")
    elif t is int:
        out.append(int.__repr__(o))
    elif t is dict:
        if not o:
            out.append("{}")
            return
        inner = pad + "  "
        sep = "{" + inner
        for k, v in o.items():
            if type(k) is not str:
                raise _Unusual
            out.append(sep)
            out.append(encode_basestring(k))
            out.append(": ")
            _write(v, inner, out)
            sep = "," + inner
        out.append(pad + "}")
    elif t is list or t is tuple:
        if not o:
            out.append("[]")
            return
        inner = pad + "  "
        sep = "[" + inner
        for v in o:
            out.append(sep)
            _write(v, inner, out)
            sep = "," + inner
        out.append(pad + "]")
    else:
        raise _Unusual


def dumps(doc: Any) -> str:
    """``json.dumps(doc, indent=2, ensure_ascii=False)``."""
    out: list[str] = []
    try:
        _write(doc, "\n", out)
    except (_Unusual, RecursionError):
        return json.dumps(doc, indent=2, ensure_ascii=False)
    return "".join(out)


def render(report: Report) -> str:
    return dumps(report.to_json()) + "\n"
