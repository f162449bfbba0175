"""``--format json`` is exactly ``json.dumps(doc, indent=2, ensure_ascii=False)``, written without json's
pure-Python indenting encoder: any document, including the types it leaves to json.dumps."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from msetool.report import json_
from msetool.report.summary import Report, StreamInfo
from msetool.rules.findings import Finding, Severity

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(alphabet=st.characters(codec="utf-8"), max_size=8)
    | st.sampled_from(list(Severity))
)
_KEYS = st.text(max_size=5) | st.integers(-3, 3) | st.booleans() | st.none()
_DOCS = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4)
    | st.lists(inner, max_size=3).map(tuple)
    | st.dictionaries(_KEYS, inner, max_size=4),
    max_leaves=25,
)


@settings(derandomize=True, max_examples=500, deadline=None)
@given(doc=_DOCS)
def test_any_document_is_written_as_json_dumps_writes_it(doc: Any) -> None:
    assert json_.dumps(doc) == json.dumps(doc, indent=2, ensure_ascii=False)


def test_a_report_renders_as_before() -> None:
    findings = [
        Finding("GEN-TIME-01", sev, f'gap "{i}" \\ \t\n ünï ✓ \x01', f"dir/seg-{i % 3}.m4s", i or None,
                "moof[0]", "§x")
        for i, sev in enumerate([Severity.ERROR, Severity.WARNING, Severity.INFO] * 3)
    ]
    files = [f"dir/seg-{i}.m4s" for i in range(5)]
    rep = Report.build(findings, files, streams=[StreamInfo("stream", 'video/mp4; codecs="x"', "mp4", files)])
    assert json_.render(rep) == json.dumps(rep.to_json(), indent=2, ensure_ascii=False) + "\n"
    empty = Report.build([], [])
    assert json_.render(empty) == json.dumps(empty.to_json(), indent=2, ensure_ascii=False) + "\n"
