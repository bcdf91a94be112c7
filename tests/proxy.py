"""A TCP proxy in the test process, to cut the line between the app and PostgreSQL on purpose.

The shared PostgreSQL server is never touched: faults are made here, on our side of the line.

- `refuse()`: nothing listens any more (connection refused) and open connections are reset,
  as when the database server is down.
- `blackhole()`: connections stay open but nothing gets through, in one or both directions,
  as when a network path dies silently. New connections are accepted and then ignored.
- `restore()`: forward again.
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading

from sqlalchemy.engine import make_url

BOTH = "both"
TO_CLIENT = "to_client"  # the server still receives; its answers are lost


class TcpProxy:
    def __init__(self, target_host: str = "127.0.0.1", target_port: int = 5432) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._mode = "forward"
        self._lock = threading.Lock()
        self._pairs: list[_Pair] = []
        self._closed = False
        self._listener: socket.socket | None = None
        self._listen()

    @classmethod
    def for_url(cls, url: str) -> TcpProxy:
        parsed = make_url(url)
        return cls(parsed.host or "127.0.0.1", parsed.port or 5432)

    def url(self, url: str) -> str:
        """The same database URL, reached through this proxy."""
        parsed = make_url(url).set(host="127.0.0.1", port=self.port)
        return parsed.render_as_string(hide_password=False)

    # faults

    def refuse(self) -> None:
        with self._lock:
            self._mode = "refuse"
            listener, self._listener = self._listener, None
            pairs, self._pairs = self._pairs, []
        _stop_listening(listener)
        for pair in pairs:
            pair.reset()

    def blackhole(self, direction: str = BOTH) -> None:
        with self._lock:
            self._mode = direction

    def restore(self) -> None:
        with self._lock:
            self._mode = "forward"
            needs_listener = self._listener is None
        if needs_listener:
            self._listen()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            listener, self._listener = self._listener, None
            pairs, self._pairs = self._pairs, []
        _stop_listening(listener)
        for pair in pairs:
            pair.close()

    @property
    def mode(self) -> str:
        return self._mode

    # plumbing

    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        with self._lock:
            self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _address = listener.accept()
            except OSError:
                return  # the listener was closed
            upstream = None
            if self._mode == "forward":
                try:
                    upstream = socket.create_connection(self.target, timeout=5)
                except OSError:
                    client.close()
                    continue
            pair = _Pair(self, client, upstream)
            with self._lock:
                if self._closed:
                    pair.close()
                    return
                self._pairs.append(pair)
            threading.Thread(target=pair.pump, daemon=True).start()

    def _forget(self, pair: _Pair) -> None:
        with self._lock:
            if pair in self._pairs:
                self._pairs.remove(pair)


def _stop_listening(listener: socket.socket | None) -> None:
    if listener is None:
        return
    # Without shutdown, a thread blocked in accept() keeps the socket listening on Linux.
    with contextlib.suppress(OSError):
        listener.shutdown(socket.SHUT_RDWR)
    listener.close()


class _Pair:
    """One client connection and its upstream connection (None if accepted during a cut)."""

    def __init__(self, proxy: TcpProxy, client: socket.socket, upstream: socket.socket | None):
        self.proxy = proxy
        self.client = client
        self.upstream = upstream
        self._done = threading.Event()

    def pump(self) -> None:
        sockets = [s for s in (self.client, self.upstream) if s is not None]
        try:
            while not self._done.is_set():
                readable, _, _ = select.select(sockets, [], [], 0.05)
                for source in readable:
                    data = source.recv(65536)
                    if not data:
                        return  # one side closed: close the other, as TCP would
                    self._pass_on(source, data)
        except OSError:
            return
        finally:
            self.close()
            self.proxy._forget(self)

    def _pass_on(self, source: socket.socket, data: bytes) -> None:
        mode = self.proxy.mode
        to_client = source is self.upstream
        if mode == BOTH or (mode == TO_CLIENT and to_client):
            return  # lost on the way
        if self.upstream is None:
            return  # accepted during a cut: nobody is listening on the other side
        (self.client if to_client else self.upstream).sendall(data)

    def reset(self) -> None:
        """Close with RST, as a crashed server's host would answer."""
        for sock in (self.client, self.upstream):
            if sock is None:
                continue
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close()

    def close(self) -> None:
        self._done.set()
        for sock in (self.client, self.upstream):
            if sock is None:
                continue
            with contextlib.suppress(OSError):
                sock.close()
