"""``expand_traf`` builds its sample table as columns (uniform runs as ranges, keyframes per distinct flag
word); each sample must still be what the per-sample rules give: flags by the precedence of
``sample_flags_of``, sync and "depends on others" read from them (Chromium: not a keyframe when a video
sample depends on others; reserved sample_depends_on fails), times and offsets accumulated run by run.

The reference below computes every sample on its own, from the same boxes; fragments are random
combinations of the builder's knobs (seeded, so a failure reproduces).
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from msetool.bmff.reader import parse_bytes
from msetool.bmff.segments import SegmentError, expand_traf, read_init, sample_flags_of
from msetool.bmff.tree import Box
from tests.unit.bmff import builder as B

FLAGS = [0, 0x10000, 0x3000000, 0x2000000, 0x1010000, 0x3010000, 0x1000000, 0x2010000]


def reference(traf: Box, moof: Box, trex: dict[str, int], video: bool, shift: int) -> Any:
    """Chromium dialect, sample by sample."""
    tfhd = traf.child("tfhd")
    assert tfhd is not None
    tfdt = traf.child("tfdt")
    dts = tfdt.get("base_media_decode_time") if tfdt is not None else 0
    d_dur = tfhd.get("default_sample_duration", 0) or trex.get("default_sample_duration", 0)
    d_size = tfhd.get("default_sample_size", 0) or trex.get("default_sample_size", 0)
    rows = []
    for trun in traf.all("trun"):
        off = trun.get("data_offset", 0)
        pos = moof.offset + (off + (1 << 32) if off < 0 else off)
        for i in range(trun.get("sample_count")):
            fl = sample_flags_of(i, trun, tfhd, trex)
            depends = (fl >> 24) & 3
            if depends == 3:
                return "reserved"
            key = not fl & 0x10000 and not (depends == 1 and video)
            dur = trun.get("sample_duration", [d_dur] * (i + 1))[i]
            size = trun.get("sample_size", [d_size] * (i + 1))[i]
            cto = trun.get("sample_composition_time_offset", [0] * (i + 1))[i]
            cto = cto - (1 << 32) if cto >= 0x80000000 else cto  # version 0: read as signed
            rows.append((dts, dts + cto - shift, dur, size, pos, key, fl))
            dts += dur
            pos += size
    return rows


def random_fragment(rnd: random.Random) -> tuple[bytes, bytes]:
    track = B.Track(trex_flags=rnd.choice(FLAGS), trex_duration=rnd.choice([0, 512]),
                    trex_size=rnd.choice([0, 10]), elst_media_time=rnd.choice([None, 0, 1024]))
    runs = []
    for _ in range(rnd.randrange(1, 4)):
        k = rnd.randrange(1, 5)

        def col(values: list[int], k: int = k) -> list[int] | None:
            return [rnd.choice(values) for _ in range(k)] if rnd.random() < 0.5 else None

        runs.append(B.Run([rnd.choice([0, 5, 10]) for _ in range(k)], col([0, 512, 1024]), col(FLAGS),
                          col([0, 512, -512]), version=rnd.choice([0, 1]),
                          first_flags=rnd.choice([None, None, *FLAGS])))
    traf = B.Traf(decode_time=rnd.choice([0, 9000]), runs=runs, default_flags=rnd.choice([None, *FLAGS]),
                  default_duration=rnd.choice([None, 256]), default_size=rnd.choice([None, 7]))
    return B.init_segment([track]), B.fragment([traf])


@pytest.mark.parametrize("seed", range(8))
def test_columns_match_the_per_sample_rules(seed: int) -> None:
    rnd = random.Random(seed)
    for _ in range(60):
        init_bytes, frag = random_fragment(rnd)
        moov, moof_ = parse_bytes(init_bytes)[1], parse_bytes(frag, base=len(init_bytes))[0]
        init = read_init(moov)
        track = init.track(1)
        assert track is not None
        traf = moof_.all("traf")[0]
        want = reference(traf, moof_, track.trex or {}, True, track.info.presentation_offset)
        try:
            t = expand_traf(traf, moof_, track, dialect="chromium")
        except SegmentError as e:
            assert want == "reserved" and e.rule == "BMFF-MEDIA-16"
            continue
        got = list(zip(t.dts, t.pts, t.duration, t.size, t.offset, t.keyframe, t.flags, strict=True))
        assert got == want


def test_single_sample_run_judges_only_its_own_flags() -> None:
    """A one-sample run whose first_sample_flags replace reserved default flags is fine: the default
    applies to no sample."""
    init_bytes = B.init_segment([B.Track()])
    frag = B.fragment([B.Traf(runs=[B.Run([10], first_flags=B.SYNC)], default_flags=0x03000000)])
    moov, moof_ = parse_bytes(init_bytes)[1], parse_bytes(frag, base=len(init_bytes))[0]
    track = read_init(moov).track(1)
    assert track is not None
    t = expand_traf(moof_.all("traf")[0], moof_, track, dialect="chromium")
    assert t.keyframe == [True] and t.flags == [B.SYNC]
