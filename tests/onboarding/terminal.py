"""Driving `python -m aperture_proxy …` in a real pseudo-terminal, key by key.

The command runs on the slave side of a pty (so its stdin and stdout are a
terminal) and the test reads and types on the master side with pexpect. The
child is started by subprocess rather than pexpect's own fork: the test process
has threads (the simulated gateway), and forking a threaded process is unsafe.
"""

from __future__ import annotations

import fcntl
import io
import os
import struct
import subprocess
import sys
import termios

import pexpect
from pexpect.fdpexpect import fdspawn

from tests.onboarding.conftest import child_env

DOWN = "\x1b[B"
ENTER = "\r"
SPACE = " "
CLEAR_LINE = "\x15"  # Ctrl-U: discard the text before the cursor
CTRL_C = "\x03"

ROWS, COLUMNS = 40, 120


class Terminal:
    """One command in a 40×120 terminal; `answer` waits for a prompt, then types."""

    def __init__(self, *args: str, timeout: float = 30) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
        # Nothing answers prompt_toolkit's cursor-position requests here; without
        # this it waits for each answer before drawing a question.
        env = child_env(TERM="xterm", PROMPT_TOOLKIT_NO_CPR="1")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "aperture_proxy", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            start_new_session=True,
        )
        os.close(slave)
        self.screen = io.StringIO()
        self.child = fdspawn(master, encoding="utf-8", timeout=timeout)
        self.child.logfile_read = self.screen

    def expect(self, text: str) -> None:
        try:
            self.child.expect_exact(text)
        except (pexpect.TIMEOUT, pexpect.EOF):
            self.process.kill()
            raise AssertionError(
                f"never saw {text!r}; the terminal showed:\n{self.screen.getvalue()}"
            ) from None

    def answer(self, prompt: str, *keys: str) -> None:
        self.expect(prompt)
        for key in keys:
            self.child.send(key)

    def finish(self) -> int:
        """Wait for the command to end; its exit status."""
        try:
            self.child.expect(pexpect.EOF)
        finally:
            status = self.process.wait(timeout=30)
            self.child.close()
        return status
