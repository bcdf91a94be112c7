from __future__ import annotations

from typing import NamedTuple

import pytest


class Clamd(NamedTuple):
    socket: str
    port: int


@pytest.fixture(scope="session")
def clamd():
    """A real clamd for the session, on a unix socket and a loopback port; it knows one
    signature, the EICAR test file's."""
    import shutil
    import tempfile
    from pathlib import Path

    from tests.clamd import start_clamd, stop_clamd

    # Not under pytest's temporary folder: a unix socket path may be at most 107 bytes.
    root = Path(tempfile.mkdtemp(prefix="samverka-clamd-"))
    root.chmod(0o755)
    try:
        process, socket_path, port = start_clamd(root)
    except RuntimeError as exc:
        pytest.fail(str(exc))
    yield Clamd(socket_path, port)
    stop_clamd(process)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def clamd_config(app, clamd, monkeypatch):
    """The app scans with the test clamd over its unix socket; returns the socket path."""
    monkeypatch.setitem(app.config, "CLAMD_SOCKET", clamd.socket)
    monkeypatch.setitem(app.config, "CLAMD_HOST", None)
    return clamd.socket
