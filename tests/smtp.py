"""A real SMTP server for tests (aiosmtpd) that keeps what it receives."""

import email
import email.policy
import socket


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(
            (envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
        )
        return "250 OK"

    def parsed(self):
        """Every accepted message, parsed as a mail client would."""
        return [parse(raw) for _, _, raw in self.messages]

    def message_ids(self):
        return [message["Message-ID"] for message in self.parsed()]


def parse(raw: bytes):
    return email.message_from_bytes(raw, policy=email.policy.default)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
