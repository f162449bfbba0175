"""Box header walking: structure problems are data, never exceptions; mdat payloads are never read."""

from __future__ import annotations

import struct
from pathlib import Path

from msetool.bmff import iter_boxes, parse_bytes, read_boxes
from msetool.bmff.tree import Box, BoxIssue
from msetool.source import BytesSource, FileSource


def box(t: str, payload: bytes = b"") -> bytes:
    return struct.pack(">I4s", 8 + len(payload), t.encode("latin-1")) + payload


def full(t: str, version: int, flags: int, payload: bytes) -> bytes:
    return box(t, struct.pack(">I", (version << 24) | flags) + payload)


class CountingSource(BytesSource):
    """Records every read so tests can prove mdat payloads are skipped."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.reads: list[tuple[int, int]] = []

    def read_at(self, offset: int, length: int) -> bytes:
        self.reads.append((offset, length))
        return super().read_at(offset, length)


def test_ftyp_vector() -> None:
    data = bytes.fromhex("0000001c667479706973356d000002006973356d69736f3661766331")
    (ftyp,) = parse_bytes(data)
    assert ftyp.type == "ftyp" and ftyp.size == 28
    assert ftyp.fields == {"major_brand": "is5m", "minor_version": 512,
                           "compatible_brands": ["is5m", "iso6", "avc1"]}


def test_tfdt_vector_v1() -> None:
    data = bytes.fromhex("0000001474666474010000000000000000ffffff")
    (tfdt,) = parse_bytes(data)
    assert tfdt.version == 1
    assert tfdt.fields["base_media_decode_time"] == 0xFFFFFF


def test_paths_offsets_and_nesting() -> None:
    mfhd = full("mfhd", 0, 0, struct.pack(">I", 7))
    tfhd = full("tfhd", 0, 0x020000, struct.pack(">I", 1))
    traf = box("traf", tfhd + full("trun", 0, 0, struct.pack(">I", 0)))
    data = box("moof", mfhd + traf + traf) + box("mdat", b"x" * 10)
    tree = read_boxes(BytesSource(data))
    assert tree.issues == []
    moof, mdat = tree.boxes
    assert [b.path for b in moof.walk()] == [
        "moof[0]", "moof[0]/mfhd", "moof[0]/traf[0]", "moof[0]/traf[0]/tfhd", "moof[0]/traf[0]/trun[0]",
        "moof[0]/traf[1]", "moof[0]/traf[1]/tfhd", "moof[0]/traf[1]/trun[0]",
    ]
    assert moof.find("mfhd") is not None
    assert moof.find("mfhd").fields["sequence_number"] == 7  # type: ignore[union-attr]
    assert moof.children[2].offset == 8 + len(mfhd) + len(traf)
    assert mdat.path == "mdat[0]" and mdat.offset == len(box("moof", mfhd + traf + traf))
    assert moof.find_all("traf/tfhd")[1].fields["default_base_is_moof"] is True


def test_mdat_payload_is_never_read() -> None:
    data = box("ftyp", b"isom\0\0\0\0") + box("mdat", b"\xaa" * 100_000) + box("free", b"z" * 50)
    src = CountingSource(data)
    boxes = list(iter_boxes(src, issues=[]))
    assert [b.type for b in boxes] == ["ftyp", "mdat", "free"]
    assert sum(n for _, n in src.reads) < 200


def test_largesize_and_uuid() -> None:
    large = struct.pack(">I4sQ", 1, b"free", 16 + 4) + b"abcd"
    uuid = struct.pack(">I4s", 8 + 16 + 2, b"uuid") + bytes(range(16)) + b"hi"
    tree = read_boxes(BytesSource(large + uuid))
    assert tree.issues == []
    a, b = tree.boxes
    assert a.large and a.header_size == 16 and a.size == 20
    assert b.usertype == bytes(range(16)) and b.header_size == 24


def test_size_zero_runs_to_end_and_is_reported() -> None:
    data = box("moof", full("mfhd", 0, 0, b"\0\0\0\1")) + b"\0\0\0\0mdat" + b"\1" * 30
    tree = read_boxes(BytesSource(data))
    mdat = tree.boxes[-1]
    assert mdat.to_end and mdat.end == len(data)
    assert [i.kind for i in tree.issues] == ["to-end"]


def test_truncated_box_reported() -> None:
    data = box("moov", box("mvex", b"")) + box("moof", box("free", b"\0" * 40))[:30]
    tree = read_boxes(BytesSource(data))
    assert tree.boxes[-1].truncated
    assert [(i.kind, i.offset) for i in tree.issues] == [("truncated", 16)]


def test_size_smaller_than_header() -> None:
    data = box("ftyp", b"isom\0\0\0\0") + struct.pack(">I4s", 4, b"moov") + b"\0" * 20
    tree = read_boxes(BytesSource(data))
    assert [b.type for b in tree.boxes] == ["ftyp"]
    assert tree.issues[0].kind == "size-too-small" and tree.issues[0].offset == 16


def test_child_overrunning_parent() -> None:
    bad_child = struct.pack(">I4s", 100, b"mfhd") + b"\0" * 8
    data = box("moof", bad_child) + box("mdat", b"")
    tree = read_boxes(BytesSource(data))
    assert any(i.kind == "overruns-parent" and i.path == "moof[0]/mfhd" for i in tree.issues)
    assert [b.type for b in tree.boxes] == ["moof", "mdat"]


def test_garbage_top_level() -> None:
    data = box("ftyp", b"isom\0\0\0\0") + b"\x00\x00\x00\x10\x01\x02\x03\x04" + b"\0" * 8
    tree = read_boxes(BytesSource(data))
    assert tree.issues[0].kind == "garbage" and tree.issues[0].offset == 16


def test_trailing_bytes_too_few_for_a_header() -> None:
    tree = read_boxes(BytesSource(box("free") + b"\0\0\0"))
    assert [i.kind for i in tree.issues] == ["garbage"]


def test_unknown_boxes_are_opaque() -> None:
    tree = read_boxes(BytesSource(box("zzzz", b"\1\2\3") + box("moov", box("qqqq", b"\0"))))
    assert tree.issues == []
    assert tree.boxes[0].fields == {} and not tree.boxes[0].decoded
    assert tree.boxes[1].children[0].type == "qqqq"


def test_deep_nesting_is_bounded() -> None:
    data = box("free")
    inner = b""
    for _ in range(200):
        inner = box("moov", inner)
    tree = read_boxes(BytesSource(inner + data))
    kinds = [i.kind for i in tree.issues]
    assert kinds == ["too-deep"]
    depth = max(b.path.count("/") for b in tree.walk())
    assert depth < 30


def test_invalid_field_is_an_issue_with_offset() -> None:
    # trun claims 1000 samples with durations but carries none
    trun = full("trun", 0, 0x100, struct.pack(">I", 1000))
    tree = read_boxes(BytesSource(box("moof", box("traf", trun))))
    (issue,) = tree.issues
    assert isinstance(issue, BoxIssue)
    assert issue.kind == "invalid-field" and issue.path == "moof[0]/traf[0]/trun[0]"
    assert issue.offset == 16 + 12 + 4


def test_real_fragmented_file(avc_aac_fmp4: Path) -> None:
    with FileSource(avc_aac_fmp4) as src:
        tree = read_boxes(src)
    assert tree.issues == []
    assert [b.type for b in tree.boxes[:3]] == ["ftyp", "moov", "moof"]
    moov = tree.boxes[1]
    handlers = [t.find("mdia/hdlr").get("handler_type") for t in moov.all("trak")]  # type: ignore[union-attr]
    assert handlers == ["vide", "soun"]
    for moof in tree.all("moof"):
        for trun in moof.find_all("traf/trun"):
            for col in ("sample_size", "sample_duration", "sample_flags"):
                if trun.flags & {"sample_size": 0x200, "sample_duration": 0x100, "sample_flags": 0x400}[col]:
                    assert len(trun.fields[col]) == trun.fields["sample_count"]


def test_take_hook_defers_decoding_without_changing_the_tree() -> None:
    """A caller that takes a box's bytes (the validate checker does, for moofs) gets it undecoded, and
    decoding it later from those bytes gives the tree the walk would have built, issues included."""
    from msetool.bmff.reader import decode_payload

    traf = box("traf", full("tfhd", 0, 0x020000, struct.pack(">I", 1)) + full("trun", 0, 0, b"\0\0"))
    data = box("moof", full("mfhd", 0, 0, struct.pack(">I", 3)) + traf) + box("mdat", b"x" * 4)
    want_issues: list[BoxIssue] = []
    want = [b.to_json() for b in iter_boxes(BytesSource(data), issues=want_issues)]
    taken: list[tuple[Box, bytes]] = []

    def take(b: Box, raw: bytes) -> bool:
        taken.append((b, raw))
        return True

    issues: list[BoxIssue] = []
    boxes = list(iter_boxes(BytesSource(data), issues=issues, take=take))
    assert [b.type for b, _ in taken] == ["moof"] and not boxes[0].children and not issues
    moof, raw = boxes[0], taken[0][1]
    decode_payload(moof, raw, 0, len(raw), base=moof.offset, issues=issues, depth=0, declared_end=moof.size)
    assert [b.to_json() for b in boxes] == want
    assert issues == want_issues and [i.kind for i in issues] == ["invalid-field"]  # the 2-byte trun
