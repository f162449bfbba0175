"""A track fragment whose trun holds no samples: validate's default mode (only random access samples
analysed) must judge it as ``--deep`` does; it once tried to analyse the empty run's first sample and
reported an internal parser error instead."""

from __future__ import annotations

import pytest

from msetool.rules.engine import Slice, ValidateOptions, validate_stream
from msetool.source import BytesSource
from tests.unit.rules import fmp4

MIME = 'video/mp4; codecs="avc1.4D400D"'


@pytest.mark.parametrize("deep", [False, True])
def test_a_trun_without_samples_is_no_internal_error(deep: bool) -> None:
    empty = fmp4.fragment(sizes=(), flags=(), decode_time=120, sequence=2)
    parts = [fmp4.init(), fmp4.fragment(decode_time=0), empty, fmp4.fragment(decode_time=120, sequence=3)]
    items = [Slice(BytesSource(p, f"part{i}.m4s")) for i, p in enumerate(parts)]
    got = validate_stream(items, MIME, ValidateOptions(deep=deep)).findings
    assert not [f for f in got if f.rule.startswith("GEN-INTERNAL")]
    other = validate_stream([Slice(BytesSource(p, f"part{i}.m4s")) for i, p in enumerate(parts)], MIME,
                            ValidateOptions(deep=not deep)).findings
    assert [(f.rule, f.file, f.offset, f.message) for f in got] == [
        (f.rule, f.file, f.offset, f.message) for f in other]
