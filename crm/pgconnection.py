"""A psycopg connection that stops waiting for a server that has gone silent.

The kernel's TCP keepalives and `tcp_user_timeout` notice a dead peer only when the peer is
the server itself. With a connection pooler, load balancer or port forwarder in between
(pgbouncer, HAProxy, Docker's proxy), that middle box acknowledges every packet while the
server behind it is gone, and a query would wait forever. So every wait for an answer is
bounded too: by the statement timeout (the server's own limit) plus the network timeout.
"""

from __future__ import annotations

import psycopg
from psycopg.connection import _WAIT_INTERVAL
from psycopg.errors import _WaitTimeout


class AnsweringConnection(psycopg.Connection):
    answer_timeout: float | None = None

    def wait(self, gen, interval: float = _WAIT_INTERVAL, timeout: float | None = None):
        if timeout is None:
            timeout = self.answer_timeout
        try:
            return super().wait(gen, interval, timeout)
        except _WaitTimeout:
            # The protocol state is unknown now: close, so the pool discards this connection.
            self.pgconn.finish()
            raise psycopg.OperationalError(
                f"no answer from the database server within {timeout:g} s; connection closed"
            ) from None

    def set_autocommit(self, value: bool) -> None:
        if self.broken:
            # psycopg would say "can't change 'autocommit' now: connection in transaction
            # status ACTIVE", a ProgrammingError. SQLAlchemy's pool ping sets autocommit back in
            # a `finally` after the ping failed on a lost line, so that error would hide the
            # lost connection: a 500 page instead of the outage page, and no reconnect.
            raise psycopg.OperationalError("the connection to the database server was lost")
        super().set_autocommit(value)
