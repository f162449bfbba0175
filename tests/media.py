"""Test media made by the real ffmpeg (from the imageio-ffmpeg wheel), cached per argument set.

Every generated file is keyed by a hash of its ffmpeg arguments and kept in ``tests/.cache`` (git-ignored)
so a second run costs nothing; a clean clone regenerates everything in a few seconds.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import struct
import subprocess
from pathlib import Path

CACHE = Path(__file__).parent / ".cache"


def ffmpeg_exe() -> str:
    env = os.environ.get("MSETOOL_FFMPEG")
    if env:
        return env
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def make(name: str, args: list[str], suffix: str = ".mp4") -> Path:
    """Run ``ffmpeg -y <args> OUT`` once and cache OUT; ``args`` are input and encoding options."""
    key = hashlib.sha1(("\0".join(args) + suffix).encode()).hexdigest()[:12]
    out = CACHE / f"{name}-{key}{suffix}"
    if out.exists():
        return out
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.stem + ".part" + suffix)
    cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *args, str(tmp)]
    subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL)
    tmp.replace(out)
    return out


def split_top_level(data: bytes) -> list[tuple[str, int, bytes]]:
    """Top-level ISO BMFF boxes as (type, offset, bytes); a test helper independent of msetool's reader."""
    out, pos = [], 0
    while pos + 8 <= len(data):
        size, typ = struct.unpack(">I4s", data[pos : pos + 8])
        if size == 1:
            size = struct.unpack(">Q", data[pos + 8 : pos + 16])[0]
        elif size == 0:
            size = len(data) - pos
        out.append((typ.decode("latin-1"), pos, data[pos : pos + size]))
        pos += size
    return out


def split_fmp4(path: Path, outdir: Path) -> tuple[Path, list[Path]]:
    """Split a fragmented MP4 into init.mp4 (ftyp+moov) and one seg<N>.m4s per moof+mdat pair."""
    data = path.read_bytes()
    boxes = split_top_level(data)
    outdir.mkdir(parents=True, exist_ok=True)
    init = b"".join(b for t, _, b in boxes if t in ("ftyp", "moov"))
    init_path = outdir / "init.mp4"
    init_path.write_bytes(init)
    segs: list[Path] = []
    cur = b""
    for t, _, b in boxes:
        if t in ("ftyp", "moov", "mfra"):
            continue
        if t in ("styp", "sidx", "moof") and b"mdat" in cur:
            segs.append(outdir / f"seg{len(segs) + 1}.m4s")
            segs[-1].write_bytes(cur)
            cur = b""
        cur += b
    if cur:
        segs.append(outdir / f"seg{len(segs) + 1}.m4s")
        segs[-1].write_bytes(cur)
    return init_path, segs


# Standard inputs: synthetic sources, tiny and fast to encode.
VIDEO_SRC = ["-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30"]
AUDIO_SRC = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"]
H264 = ["-c:v", "libx264", "-preset", "ultrafast", "-profile:v", "main", "-pix_fmt", "yuv420p",
        "-g", "30", "-keyint_min", "30", "-sc_threshold", "0", "-bf", "0"]
AAC = ["-c:a", "aac", "-b:a", "64k"]
FRAG = ["-movflags", "+frag_keyframe+empty_moov+default_base_moof", "-frag_duration", "1000000"]


def fmp4_avc_aac(seconds: int = 4) -> Path:
    """H.264 (1 s GOP) + AAC muxed, fragmented on keyframes, empty moov, default-base-is-moof."""
    return make("avc-aac", [*VIDEO_SRC, *AUDIO_SRC, "-t", str(seconds), *H264, *AAC, *FRAG])


def fmp4_avc(seconds: int = 4) -> Path:
    return make("avc", [*VIDEO_SRC, "-t", str(seconds), *H264, "-an", *FRAG])


def fmp4_aac(seconds: int = 4) -> Path:
    return make("aac", [*AUDIO_SRC, "-t", str(seconds), *AAC, "-vn", *FRAG])


def have(exe: str) -> bool:
    return shutil.which(exe) is not None
