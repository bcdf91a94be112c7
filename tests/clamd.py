"""A real virus scanner for the attachment tests: Debian's clamd, started with a throw-away
configuration whose only signature is the EICAR test file's hash, written here with sigtool.
The public signature download is never used."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from clamav_client.clamd import ClamdError, ClamdUnixSocket

from tests.smtp import free_port

CLAMD = "/usr/sbin/clamd"
SIGTOOL = "/usr/bin/sigtool"
# The industry's harmless test file: every scanner reports it, nothing else matches it.
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
SIGNATURE = "Eicar-Test-Signature"
START_TIMEOUT = 60

# No LogFile: in the foreground clamd writes to stdout and stderr, which go to clamd.log.
# No User: clamd runs as whoever starts it and needs no other account's access to `root`.
CONFIG = """\
Foreground yes
LocalSocket {root}/clamd.sock
TCPSocket {port}
TCPAddr 127.0.0.1
DatabaseDirectory {root}/db
TemporaryDirectory {root}/tmp
StreamMaxLength 32M
"""


def start_clamd(root: Path) -> tuple[subprocess.Popen, str, int]:
    """clamd in the foreground on a unix socket in `root` and a free loopback port; returns
    (process, socket path, port) once it answers PING."""
    for tool in (CLAMD, SIGTOOL):
        if not shutil.which(tool):
            raise RuntimeError(f"{tool} is missing: run `make install-clamav`")
    for folder in ("db", "tmp", "sample"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    write_eicar_signature(root)
    socket_path, port = str(root / "clamd.sock"), free_port()
    config = root / "clamd.conf"
    config.write_text(CONFIG.format(root=root, port=port))
    with open(root / "clamd.log", "wb") as log:
        process = subprocess.Popen([CLAMD, "-c", str(config)], stdout=log, stderr=log)
    wait_for_pong(process, socket_path, root / "clamd.log")
    return process, socket_path, port


def write_eicar_signature(root: Path) -> None:
    # sigtool names the signature after the file it hashes.
    (root / "sample" / SIGNATURE).write_bytes(EICAR)
    line = subprocess.run(
        [SIGTOOL, "--md5", SIGNATURE],
        cwd=root / "sample", check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    (root / "db" / "eicar.hdb").write_text(line)


def wait_for_pong(process: subprocess.Popen, socket_path: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        try:
            if ClamdUnixSocket(socket_path, timeout=1).ping() == "PONG":
                return
        except (ClamdError, OSError):
            pass
        if process.poll() is not None:
            raise RuntimeError(f"clamd stopped at start: {log.read_text()[-2000:]}")
        time.sleep(0.1)
    stop_clamd(process)
    raise RuntimeError(f"clamd did not answer PING within {START_TIMEOUT} s")


def stop_clamd(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
