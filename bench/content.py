"""The C benchmarks' content generator (common.h gen_content), byte for byte, for the Python ones."""

import time

# An hour ago: inside the library's 72-hour retention, so no save is purged by age.
BASE_MS = (int(time.time()) - 3600) * 1000
FRAMES = [b"main;", b"run_loop;", b"handle_request;", b"parse_json;", b"sqlite3_step;", b"btreeNext;",
          b"memcpy;", b"malloc;", b"render;", b"gc_mark;", b"epoll_wait;", b"write;"]
M32 = 0xFFFFFFFF


def _xorshift(x: int) -> int:
    x ^= (x << 13) & M32
    x ^= x >> 17
    x ^= (x << 5) & M32
    return x


def gen_content(n: int, i: int) -> bytes:
    x = (0x9E3779B9 ^ ((i * 2654435761) & M32)) & M32 or 1
    out = bytearray()
    while len(out) < n:
        x = _xorshift(x)
        depth = 2 + x % 6
        line = bytearray()
        for _ in range(depth):
            x = _xorshift(x)
            line += FRAMES[x % 12]
        line += b" %d\n" % (x % 1000)
        out += line[: n - len(out)]
    return bytes(out)
