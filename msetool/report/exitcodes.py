"""Exit codes, documented once (docs/cli.md).

0  clean: nothing at or above the failing severity.
1  findings: errors (or warnings with ``--strict``), a simulated append error, a verify mismatch.
2  usage or I/O: bad flags, missing or unreadable files, missing ffmpeg/Chromium, ffmpeg failure.
3  internal error: a bug in msetool (reported with a hint to file an issue, never a bare traceback).
"""

OK = 0
FINDINGS = 1
USAGE = 2
INTERNAL = 3
