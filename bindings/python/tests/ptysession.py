"""Driving the command on a real pseudo-terminal as a user would: start it with stdin,
stdout and stderr on the pty, wait for text to appear (with a deadline, never a fixed
sleep), type keys, and check the terminal's settings afterwards."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from typing import Dict, List, Optional, Sequence


class PtySession:
    def __init__(self, args: Sequence[str], env: Dict[str, str], rows: int = 40, cols: int = 150,
                 program: Optional[Sequence[str]] = None) -> None:
        self.master, self.slave = pty.openpty()
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.settings_before = termios.tcgetattr(self.slave)
        argv = list(program) if program is not None else [sys.executable, "-m", "spikevault"]
        self.proc = subprocess.Popen([*argv, *args], stdin=self.slave, stdout=self.slave, stderr=self.slave,
                                     env=dict(env, TERM="xterm-256color"), start_new_session=True, close_fds=True,
                                     preexec_fn=self._controlling_tty)
        self.output = b""

    def _controlling_tty(self) -> None:
        # The pty becomes the child's controlling terminal, so Ctrl-C typed on it is SIGINT.
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)
        # As a shell starts a foreground job: default dispositions, even when the test run was
        # started in the background with SIGINT/SIGQUIT ignored (nohup cmd &), which exec keeps.
        for sig in (signal.SIGINT, signal.SIGQUIT):
            signal.signal(sig, signal.SIG_DFL)

    @property
    def text(self) -> str:
        return self.output.decode("utf-8", "replace")

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return False
        try:
            data = os.read(self.master, 65536)
        except OSError:
            return False
        self.output += data
        return bool(data)

    def expect(self, pattern: str, timeout: float = 30, since: int = 0) -> re.Match:
        """Wait until ``pattern`` (a regex) appears in the output after offset ``since``."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        while True:
            m = rx.search(self.text, since)
            if m:
                return m
            if time.monotonic() > deadline:
                raise AssertionError(f"{pattern!r} did not appear within {timeout}s; output: {self.text[-3000:]!r}")
            if not self._read(0.1) and self.proc.poll() is not None:
                self._read(0.1)
                m = rx.search(self.text, since)
                if m:
                    return m
                raise AssertionError(f"exited {self.proc.returncode} before {pattern!r}; output: {self.text[-3000:]!r}")

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def wait(self, timeout: float = 30) -> int:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                self.proc.kill()
                raise AssertionError(f"still running after {timeout}s; output: {self.text[-3000:]!r}")
            self._read(0.1)
        while self._read(0.05):
            pass
        return self.proc.returncode

    def settings_now(self) -> List:
        return termios.tcgetattr(self.slave)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass
