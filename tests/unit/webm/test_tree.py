"""The element tree walker: paths, offsets, unknown sizes, problems as data, header-only reads."""

from __future__ import annotations

from pathlib import Path

from msetool.source import BytesSource, FileSource
from msetool.webm.tree import Element, EndOf, Problem, walk
from tests.unit.webm import builder as B


class CountingSource(BytesSource):
    """Counts the bytes read, to show the walker reads headers and skips payloads."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.bytes_read = 0

    def read_at(self, offset: int, length: int) -> bytes:
        out = super().read_at(offset, length)
        self.bytes_read += len(out)
        return out


def elements(data: bytes) -> list[Element]:
    return [e for e in walk(BytesSource(data)) if isinstance(e, Element)]


def problems(data: bytes) -> list[Problem]:
    return [e for e in walk(BytesSource(data)) if isinstance(e, Problem)]


def test_paths_and_offsets() -> None:
    init = B.init_segment([B.Track(1, 1, "V_VP9")])
    c = B.Cluster(0, [B.simple_block(1, 0), B.simple_block(1, 33, key=False)]).bytes()
    els = elements(init + c + c)
    by_path = {e.path: e for e in els}
    assert "Segment/Cluster[2]/SimpleBlock[2]" in by_path
    assert by_path["Segment/Cluster[2]"].offset == len(init) + len(c)
    assert by_path["Segment"].size is None
    assert by_path["Segment/Tracks[1]/TrackEntry[1]/CodecID[1]"].parent == "TrackEntry"
    assert not problems(init + c + c)


def test_unknown_size_cluster_ends_at_sibling() -> None:
    init = B.init_segment([B.Track(1, 1, "V_VP9")])
    c1 = B.Cluster(0, [B.simple_block(1, 0)], unknown_size=True).bytes()
    c2 = B.Cluster(40, [B.simple_block(1, 0)]).bytes()
    events = list(walk(BytesSource(init + c1 + c2)))
    ends = [e.element for e in events if isinstance(e, EndOf) and e.element.name == "Cluster"]
    assert [e.end for e in ends] == [len(init) + len(c1), len(init) + len(c1) + len(c2)]
    blocks = [e.path for e in events if isinstance(e, Element) and e.name == "SimpleBlock"]
    assert blocks == ["Segment/Cluster[1]/SimpleBlock[1]", "Segment/Cluster[2]/SimpleBlock[1]"]


def test_problems_are_data() -> None:
    init = B.init_segment([B.Track(1, 1, "V_VP9")])
    inner = B.uint(0xE7, 0) + B.el(0xA3, b"\x81\0\0\x80", size=50)
    overrun = B.el(0x1F43B675, inner) + B.Cluster(0, [B.simple_block(1, 0)]).bytes()
    kinds = [p.kind for p in problems(init + overrun)]
    assert kinds == ["overrun"]
    assert [p.kind for p in problems(init + b"\x00\x00")] == ["header"]
    cut = B.Cluster(0, [B.simple_block(1, 0, b"\0" * 100)]).bytes()[:-10]
    assert [p.kind for p in problems(init + cut)] == ["truncated", "truncated"]  # Cluster, SimpleBlock
    info_unknown = B.EBML_HEADER + B.el(0x18538067, B.el(0x1549A966, b"", size=None), size=None)
    assert "unknown-size" in [p.kind for p in problems(info_unknown)]
    misplaced = init + B.el(0x1F43B675, B.uint(0xE7, 0) + B.uint(0xD7, 1))
    assert [p.kind for p in problems(misplaced)] == ["misplaced"]


def test_deep_nesting_is_bounded() -> None:
    # 40 nested BlockGroups: the walker stops descending instead of recursing without limit.
    data = b"\x81\0\0\x80"
    for _ in range(40):
        data = B.el(0xA0, data)
    evs = list(walk(BytesSource(B.init_segment([B.Track(1, 1, "V_VP9")]) + B.el(0x1F43B675, data))))
    assert any(isinstance(e, Problem) and e.kind == "depth" for e in evs)


def test_reads_headers_not_payloads(vp9_only: Path) -> None:
    data = vp9_only.read_bytes()
    src = CountingSource(data)
    n = sum(1 for e in walk(src) if isinstance(e, Element) and e.name == "SimpleBlock")
    assert n > 30
    assert src.bytes_read < len(data) / 4
    with FileSource(vp9_only) as f:
        assert sum(1 for e in walk(f) if isinstance(e, Element) and e.name == "SimpleBlock") == n
