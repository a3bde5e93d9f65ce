"""`tongban ... | head`: a reader that goes away ends the command quietly (exit 141, as a
Unix filter), not with a traceback or an error line about a broken pipe."""
from __future__ import annotations

import os
import subprocess
import sys


def test_a_closed_pipe_ends_the_command_quietly(tmp_path):
    read, write = os.pipe()
    os.close(read)                       # the reader is gone before the first line
    proc = subprocess.run([sys.executable, "-m", "hub.cli.main", "schema", "export", str(tmp_path / "s")],
                          stdout=write, stderr=subprocess.PIPE, text=True, timeout=120)
    os.close(write)
    assert proc.returncode == 141, proc.stderr
    assert "Broken pipe" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
