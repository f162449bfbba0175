"""``msetool inspect`` output and exit codes, and pymp4 as an independent cross-check of our decoders."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
from click.testing import CliRunner

from msetool.bmff import _pymp4, read_boxes
from msetool.cli.main import cli
from msetool.errors import ParseError
from msetool.source import FileSource
from tests import media
from tests.unit.bmff import builder as B


@pytest.fixture(scope="module")
def segments(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    return media.split_fmp4(media.fmp4_avc_aac(), tmp_path_factory.mktemp("inspect-segs"))


def test_inspect_json_follows_init_into_segments(segments: tuple[Path, list[Path]]) -> None:
    init, segs = segments
    res = CliRunner().invoke(cli, ["inspect", "--format", "json", str(init), str(segs[0])])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    f_init, f_seg = out["files"]
    assert [t["codec"] for t in f_init["init"]["tracks"]] == ["avc1.42C00D", "mp4a.40.2"]
    assert f_seg["init"] is None  # the media segment is read against the earlier file's init segment
    (frag,) = f_seg["fragments"]
    assert [t["track_ID"] for t in frag["tracks"]] == [1, 2]
    assert frag["tracks"][0]["samples"] == 30 and frag["tracks"][0]["first_is_keyframe"] is True
    moof = f_seg["boxes"][0]
    assert moof["path"] == "moof[0]" and moof["offset"] == 0
    tfdt = moof["children"][1]["children"][1]
    assert tfdt["path"] == "moof[0]/traf[0]/tfdt" and tfdt["fields"]["base_media_decode_time"] == 0


def test_inspect_text_and_samples(segments: tuple[Path, list[Path]]) -> None:
    init, segs = segments
    res = CliRunner().invoke(cli, ["inspect", "--samples", str(init), str(segs[1])])
    assert res.exit_code == 0, res.output
    assert "moof[0]/traf[0]/trun[0]" in res.output
    assert "track 1: 30 samples" in res.output
    assert res.output.count(" sync") >= 30  # audio frames plus the video keyframe carry the sync marker


def test_inspect_exit_codes(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(B.box("ftyp", b"isom\0\0\0\0") + b"\0\0\0\0mdat" + b"\1" * 10)
    res = CliRunner().invoke(cli, ["inspect", str(bad)])
    assert res.exit_code == 1 and "to-end" in res.output
    res = CliRunner().invoke(cli, ["inspect", "--format", "junit", str(bad)])
    assert res.exit_code == 2 and "Traceback" not in res.output
    res = CliRunner().invoke(cli, ["inspect", str(tmp_path / "missing.mp4")])
    assert res.exit_code == 2


def test_pymp4_agrees_with_our_decoders(avc_aac_fmp4: Path) -> None:
    data = avc_aac_fmp4.read_bytes()
    with FileSource(avc_aac_fmp4) as src:
        tree = read_boxes(src)
    for top in tree.boxes:
        if top.type not in ("moov", "moof"):
            continue
        theirs = _pymp4.decode(data[top.offset : top.end], base=top.offset, path=top.path)
        flat: dict[str, list[dict[str, object]]] = {}

        def walk(node: dict[str, object], flat: dict[str, list[dict[str, object]]] = flat) -> None:
            flat.setdefault(str(node["type"]), []).append(node)
            for c in node.get("children", []) or []:  # type: ignore[attr-defined]
                walk(c)

        walk(theirs)
        for box in top.walk():
            if box.type == "tfdt":
                times = [b["baseMediaDecodeTime"] for b in flat["tfdt"]]
                assert box.fields["base_media_decode_time"] in times
            elif box.type == "trun":
                if "sample_size" in box.fields:
                    sizes = [[s["sample_size"] for s in b["sample_info"]]  # type: ignore[attr-defined]
                             for b in flat["trun"]]
                    assert box.fields["sample_size"] in sizes
            elif box.type == "mdhd":
                assert box.fields["timescale"] in [b["timescale"] for b in flat["mdhd"]]
            elif box.type == "tfhd":
                assert box.fields["track_ID"] in [b["track_ID"] for b in flat["tfhd"]]


def test_pymp4_errors_are_located_by_the_adapter() -> None:
    # a leaf box pymp4 cannot parse: construct's position-less error gets our offset and path
    with pytest.raises(ParseError) as e:
        _pymp4.decode(B.full("mvhd", 0, 0, b"\0" * 20), base=1000, path="moov/mvhd")
    assert (e.value.offset, e.value.path) == (1000, "moov/mvhd")
    # inside a container pymp4 silently drops the bad child and everything after it: reported as an error
    frag = B.fragment()
    moof = bytearray(frag[: frag.find(b"mdat") - 4])
    trun_at = moof.find(b"trun") - 4
    moof[trun_at + 12 : trun_at + 16] = struct.pack(">I", 100_000)
    with pytest.raises(ParseError) as e:
        _pymp4.decode(bytes(moof), base=1000, path="moof[0]")
    assert (e.value.offset, e.value.path) == (1000 + trun_at, "moof[0]/traf[0]/trun[0]")
