"""``msetool fragment``: MSE-ready packaging with ffmpeg (see docs/fragment.md).

plan (pure: options -> ffmpeg argv) · runner (the only process spawner) · probe (``ffmpeg -i`` -> MediaInfo)
· layout (read the output back) · manifests (mse.json, DASH, HLS) · package (orchestration, safe writes)
· check (self-check: validate + buffered ranges).
"""
