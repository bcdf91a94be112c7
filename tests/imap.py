"""A real IMAP server for the mail-intake tests: Debian's Dovecot, started on a free loopback
port with a throw-away configuration and maildir (never the system's Dovecot)."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import time
from pathlib import Path

DOVECOT = "/usr/sbin/dovecot"
PASSWORD = "hemligt-for-tester"

CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u
first_valid_uid = 1
first_valid_gid = 1
default_login_user = dovenull
default_internal_user = dovecot
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


def start_dovecot(root: Path, port: int) -> subprocess.Popen:
    """Dovecot in the foreground on `port`; every user name logs in with PASSWORD and has
    its own maildir under `root`. Needs root (Dovecot switches to its own users)."""
    if not shutil.which(DOVECOT):
        raise RuntimeError(f"{DOVECOT} is missing: run `make install-dovecot`")
    if os.geteuid() != 0:
        raise RuntimeError("the Dovecot test server must be started as root")
    account = pwd.getpwnam("dovecot")
    for folder in ("mail", "home"):
        (root / folder).mkdir(parents=True, exist_ok=True)
        os.chown(root / folder, account.pw_uid, account.pw_gid)
    config = root / "dovecot.conf"
    config.write_text(CONFIG.format(
        root=root, port=port, uid=account.pw_uid, gid=account.pw_gid, password=PASSWORD,
    ))  # fmt: skip
    process = subprocess.Popen([DOVECOT, "-F", "-c", str(config)])
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            if process.poll() is not None:
                log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
                raise RuntimeError(f"Dovecot stopped at start: {log[-2000:]}") from None
            time.sleep(0.1)
    process.terminate()
    raise RuntimeError("Dovecot did not start listening within 15 s")


def stop_dovecot(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
