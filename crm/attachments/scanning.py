"""Virus scanning of attachments by ClamAV's daemon (clamd), streamed over INSTREAM.

Scanning is optional: without CLAMD_SOCKET or CLAMD_HOST nothing is scanned. A configured
scanner that cannot give an answer is UNAVAILABLE, never an exception, so the caller decides
what an unscanned file may do.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from os import PathLike
from typing import BinaryIO

from clamav_client.clamd import ClamdError, ClamdNetworkSocket, ClamdUnixSocket
from flask import current_app

log = logging.getLogger(__name__)


class Verdict(enum.Enum):
    CLEAN = "clean"
    INFECTED = "infected"
    UNAVAILABLE = "unavailable"
    NOT_CONFIGURED = "not_configured"


@dataclass(frozen=True)
class ScanResult:
    verdict: Verdict
    signature: str | None = None


def scanner_configured() -> bool:
    """Whether clamd is configured, by unix socket or by host."""
    config = current_app.config
    return bool(config.get("CLAMD_SOCKET") or config.get("CLAMD_HOST"))


def scan(stream: BinaryIO) -> ScanResult:
    """Scan the whole stream with clamd; the stream is left at its start."""
    if not scanner_configured():
        return ScanResult(Verdict.NOT_CONFIGURED)
    stream.seek(0)
    try:
        answer = _client().instream(stream)
    # OSError as well: the client lets a broken pipe through, which is how clamd ends a
    # stream longer than its StreamMaxLength.
    except (ClamdError, OSError) as exc:
        log.warning("Virus scanner unavailable: %s", exc)
        return ScanResult(Verdict.UNAVAILABLE)
    finally:
        stream.seek(0)
    return _result(answer)


def scan_path(path: str | PathLike) -> ScanResult:
    """Scan the file at `path`."""
    with open(path, "rb") as stream:
        return scan(stream)


def _client() -> ClamdNetworkSocket:
    config = current_app.config
    timeout = config.get("CLAMD_TIMEOUT", 30)
    if config.get("CLAMD_SOCKET"):
        return ClamdUnixSocket(config["CLAMD_SOCKET"], timeout=timeout)
    return ClamdNetworkSocket(config["CLAMD_HOST"], config.get("CLAMD_PORT", 3310), timeout)


def _result(answer: dict) -> ScanResult:
    status, signature = answer.get("stream", (None, None))
    if status == "OK":
        return ScanResult(Verdict.CLEAN)
    if status == "FOUND":
        return ScanResult(Verdict.INFECTED, signature)
    log.warning("Virus scanner gave no verdict: %r", answer)
    return ScanResult(Verdict.UNAVAILABLE)
