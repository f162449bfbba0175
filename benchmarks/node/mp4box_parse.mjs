// Parse an (f)MP4 with mp4box.js as a validator would: box structure and every moof/trun, mdat data not
// kept (createFile(false) discards it), reading the file in 1 MiB chunks at the position mp4box.js asks
// for next, so it may skip mdat payloads just as msetool does. Prints what it saw, for a sanity check.
import { createFile } from "mp4box";
import { openSync, readSync, fstatSync } from "node:fs";

const path = process.argv[2];
const fd = openSync(path, "r");
const size = fstatSync(fd).size;
const CHUNK = 1 << 20;
const file = createFile(false);
let ready = null;
file.onReady = (info) => { ready = info; };
file.onError = (e) => { console.error("mp4box error", e); process.exitCode = 1; };
let pos = 0;
while (pos < size) {
  const n = Math.min(CHUNK, size - pos);
  const ab = new ArrayBuffer(n);
  readSync(fd, new Uint8Array(ab), 0, n, pos);
  ab.fileStart = pos;
  const next = file.appendBuffer(ab, pos + n >= size);
  pos = next > pos ? next : pos + n;
}
file.flush();
const moofs = (file.moofs || []).length;
let samples = 0;
for (const m of file.moofs || []) for (const t of m.trafs || []) for (const r of t.truns || []) samples += r.sample_count;
console.log(JSON.stringify({ tracks: ready ? ready.tracks.length : 0, moofs, samples }));
