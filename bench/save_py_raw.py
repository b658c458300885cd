"""The library's save protocol in pure Python: stdlib sqlite3 + the zstandard package, the
baseline for save_py_pair.py. Same settings as the library's defaults: zstd level 3 with
the content checksum; temp file O_CREAT|O_EXCL|O_NOFOLLOW 0600 in VAULT/artefacts, fsync,
link to the final name, unlink the temp, fsync the directory; BEGIN IMMEDIATE, two INSERTs,
COMMIT on a WAL database with synchronous=NORMAL and foreign_keys=ON. The stored checksum is
XXH64 from the `xxhash` package when installed (as the library), else BLAKE2b-64 (hashlib).

Imported by save_py_pair.py (RawStore, CHECKSUM).
"""
import hashlib
import os
import sqlite3
import sys
import time

import zstandard

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import schema_sql  # noqa: E402
from content import BASE_MS, gen_content  # noqa: E402

try:
    import xxhash

    def checksum(data: bytes) -> str:
        return "xxh64:" + xxhash.xxh64_hexdigest(data)

    CHECKSUM = "xxh64 (xxhash package)"
except ImportError:

    def checksum(data: bytes) -> str:
        return "xxh64:" + hashlib.blake2b(data, digest_size=8).hexdigest()

    CHECKSUM = "blake2b-64 (hashlib; pip install xxhash for xxh64)"

# The library's schema (all migrations), read from Schema.swift: the same B-trees on both sides.
SCHEMA = schema_sql.SCHEMA

INSERT_CAPTURE = """INSERT INTO profile_capture (processName, pid, triggerMetric, triggerValue, capturedAt,
    profilePath, durationSeconds, notes, status, processStartTime, rawBytes, storedBytes)
    VALUES (?, ?, ?, ?, strftime('%Y-%m-%d %H:%M:%fZ', ? / 1000.0, 'unixepoch'), ?, ?, ?, ?, ?, ?, ?)"""
INSERT_ARTEFACT = """INSERT INTO capture_artefact (captureId, kind, path, rawBytes, storedBytes, checksum)
    VALUES (?, ?, ?, ?, ?, ?)"""


def compact_utc(ms: int) -> str:
    t = time.gmtime(ms // 1000)
    return time.strftime("%Y%m%dT%H%M%S", t) + f".{ms % 1000:03d}Z"


class RawStore:
    """The library's save protocol by hand: open(path), save(i, raw) per record, close()."""

    def __init__(self, path: str) -> None:
        os.makedirs(os.path.join(path, "artefacts"), mode=0o700, exist_ok=True)
        self.afd = os.open(os.path.join(path, "artefacts"), os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        # isolation_level=None: we issue BEGIN IMMEDIATE / COMMIT ourselves; statements are cached.
        self.db = sqlite3.connect(os.path.join(path, "vault.sqlite3"), isolation_level=None, cached_statements=16)
        self.db.execute("PRAGMA auto_vacuum = INCREMENTAL")
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("PRAGMA foreign_keys = ON")
        self.db.execute("PRAGMA synchronous = NORMAL")
        self.db.execute("PRAGMA busy_timeout = 10000")
        self.db.executescript("BEGIN IMMEDIATE;" + SCHEMA + f"PRAGMA user_version = {schema_sql.VERSION}; COMMIT;")
        self.compressor = zstandard.ZstdCompressor(level=3, write_checksum=True)
        self.flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        self.pid = os.getpid()

    def save(self, i: int, raw: bytes) -> None:
        afd, db = self.afd, self.db
        captured = BASE_MS + i
        packed = self.compressor.compress(raw)
        digest = checksum(raw)
        temp = f".tmp-{self.pid}-{i}"
        fd = os.open(temp, self.flags, 0o600, dir_fd=afd)
        try:
            view = memoryview(packed)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        name = f"{compact_utc(captured)}-4242.oncpu.folded.zst"
        os.link(temp, name, src_dir_fd=afd, dst_dir_fd=afd)
        os.unlink(temp, dir_fd=afd)
        os.fsync(afd)
        db.execute("BEGIN IMMEDIATE")
        try:
            cur = db.execute(INSERT_CAPTURE, ("bench-worker", 4242, "cpu", 90.0 + i % 10, captured, name, 1.5,
                                              "{}", "complete", None, len(raw), len(packed)))
            db.execute(INSERT_ARTEFACT, (cur.lastrowid, "oncpu.folded", name, len(raw), len(packed), digest))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self.db.close()
        os.close(self.afd)


