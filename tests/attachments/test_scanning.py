"""Virus scanning against a real clamd (tests/clamd.py) whose one signature is EICAR's."""

import io
import logging
import socket
import threading
import zipfile

import pytest

from crm.attachments.scanning import ScanResult, Verdict, scan, scan_path, scanner_configured
from tests.clamd import EICAR, SIGNATURE
from tests.smtp import free_port

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture(autouse=True)
def context(app):
    """scan() reads its settings from the app."""
    with app.app_context():
        yield


@pytest.fixture
def unconfigured(app, monkeypatch):
    """No scanner set, whatever the environment says."""
    for name in ("CLAMD_SOCKET", "CLAMD_HOST"):
        monkeypatch.setitem(app.config, name, None)


@pytest.fixture
def over_tcp(app, clamd, unconfigured, monkeypatch):
    """The app scans with the test clamd over TCP only."""
    monkeypatch.setitem(app.config, "CLAMD_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "CLAMD_PORT", clamd.port)


def zip_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def assert_eicar(result: ScanResult) -> None:
    assert result.verdict is Verdict.INFECTED
    assert result.signature.startswith(SIGNATURE)


def test_a_clean_file_is_clean(clamd_config):
    assert scan(io.BytesIO(PDF)) == ScanResult(Verdict.CLEAN)


def test_the_eicar_file_is_infected_and_named(clamd_config):
    assert_eicar(scan(io.BytesIO(EICAR)))


def test_eicar_after_a_megabyte_of_other_data_is_found(clamd_config):
    # The hash signature matches the archive member, so clamd must receive the whole stream.
    archive = zip_of({"rapport.pdf": PDF * (1024 * 1024 // len(PDF) + 1), "eicar.com": EICAR})
    assert len(archive) > 1024 * 1024
    assert_eicar(scan(io.BytesIO(archive)))


def test_the_same_archive_without_eicar_is_clean(clamd_config):
    archive = zip_of({"rapport.pdf": PDF * (1024 * 1024 // len(PDF) + 1), "notes.txt": b"ok"})
    assert scan(io.BytesIO(archive)).verdict is Verdict.CLEAN


def test_scanning_over_tcp(over_tcp):
    assert scan(io.BytesIO(PDF)).verdict is Verdict.CLEAN
    assert_eicar(scan(io.BytesIO(EICAR)))


def test_scan_path_reads_the_file(clamd_config, tmp_path):
    (tmp_path / "clean.pdf").write_bytes(PDF)
    (tmp_path / "eicar.com").write_bytes(EICAR)
    assert scan_path(tmp_path / "clean.pdf").verdict is Verdict.CLEAN
    assert_eicar(scan_path(tmp_path / "eicar.com"))


def test_the_whole_stream_is_scanned_and_rewound(clamd_config):
    stream = io.BytesIO(EICAR)
    stream.seek(0, io.SEEK_END)
    assert_eicar(scan(stream))
    assert stream.tell() == 0


def test_a_stream_over_clamds_limit_is_unavailable(clamd_config, caplog):
    stream = io.BytesIO(bytes(33 * 1024 * 1024))
    with caplog.at_level(logging.WARNING):
        assert scan(stream) == ScanResult(Verdict.UNAVAILABLE)
    assert stream.tell() == 0
    assert "Virus scanner unavailable" in caplog.text


@pytest.mark.parametrize("where", ["socket", "port"])
def test_nothing_listening_is_unavailable(app, unconfigured, monkeypatch, tmp_path, caplog, where):
    if where == "socket":
        monkeypatch.setitem(app.config, "CLAMD_SOCKET", str(tmp_path / "missing.sock"))
    else:
        monkeypatch.setitem(app.config, "CLAMD_HOST", "127.0.0.1")
        monkeypatch.setitem(app.config, "CLAMD_PORT", free_port())
    assert scanner_configured()
    stream = io.BytesIO(EICAR)
    with caplog.at_level(logging.WARNING):
        assert scan(stream) == ScanResult(Verdict.UNAVAILABLE)
    assert stream.tell() == 0
    assert "Virus scanner unavailable" in caplog.text


def test_a_scanner_that_never_answers_times_out(app, unconfigured, monkeypatch):
    with socket.create_server(("127.0.0.1", 0)) as silent:
        monkeypatch.setitem(app.config, "CLAMD_HOST", "127.0.0.1")
        monkeypatch.setitem(app.config, "CLAMD_PORT", silent.getsockname()[1])
        monkeypatch.setitem(app.config, "CLAMD_TIMEOUT", 0.5)
        assert scan(io.BytesIO(PDF)).verdict is Verdict.UNAVAILABLE


def answer_once(server: socket.socket, reply: bytes) -> None:
    connection, _ = server.accept()
    with connection:
        received = b""
        while not received.endswith(b"\0\0\0\0"):
            received += connection.recv(65536)
        connection.sendall(reply)


def test_an_answer_without_a_verdict_is_unavailable(app, unconfigured, monkeypatch, caplog):
    with socket.create_server(("127.0.0.1", 0)) as server:
        reply = b"stream: Can't allocate memory ERROR\n"
        threading.Thread(target=answer_once, args=(server, reply), daemon=True).start()
        monkeypatch.setitem(app.config, "CLAMD_HOST", "127.0.0.1")
        monkeypatch.setitem(app.config, "CLAMD_PORT", server.getsockname()[1])
        with caplog.at_level(logging.WARNING):
            assert scan(io.BytesIO(PDF)) == ScanResult(Verdict.UNAVAILABLE)
    assert "gave no verdict" in caplog.text


def test_nothing_configured_is_not_configured(unconfigured):
    assert not scanner_configured()
    assert scan(io.BytesIO(EICAR)) == ScanResult(Verdict.NOT_CONFIGURED)
