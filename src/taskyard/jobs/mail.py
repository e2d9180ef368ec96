"""Sending mail: SMTP (aiosmtplib) when TASKYARD_SMTP_URL is set, otherwise the log."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol
from urllib.parse import unquote, urlsplit

import aiosmtplib

from taskyard.config import Settings
from taskyard.logging import get_logger

logger = get_logger("taskyard.mail")
SMTP_TIMEOUT_SECONDS = 10


@dataclass(frozen=True, slots=True)
class Mail:
    to: str
    subject: str
    text: str
    html: str
    # Stable across resends of one event's mail, so a mailbox shows it once.
    message_id: str | None = None


class Mailer(Protocol):
    sender: str

    async def send(self, mail: Mail) -> None: ...


def build_message(mail: Mail, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    if mail.message_id is not None:
        message["Message-ID"] = mail.message_id
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    return message


def message_id_for(event_id: uuid.UUID, sender: str) -> str:
    domain = sender.rpartition("@")[2].strip("<> ") or "taskyard.invalid"
    return f"<{event_id}@{domain}>"


class LogMailer:
    """The embedded default: the mail is written to the log instead of being sent."""

    def __init__(self, sender: str) -> None:
        self.sender = sender

    async def send(self, mail: Mail) -> None:
        logger.info("mail", to=mail.to, subject=mail.subject, text=mail.text)


class SmtpMailer:
    """smtp://[user:password@]host:port (STARTTLS when offered) or smtps:// (TLS)."""

    def __init__(self, url: str, sender: str) -> None:
        parts = urlsplit(url)
        self.hostname = parts.hostname or "localhost"
        self.use_tls = parts.scheme == "smtps"
        self.port = parts.port or (465 if self.use_tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.sender = sender

    async def send(self, mail: Mail) -> None:
        await aiosmtplib.send(
            build_message(mail, self.sender),
            hostname=self.hostname,
            port=self.port,
            username=self.username,
            password=self.password,
            use_tls=self.use_tls,
            timeout=SMTP_TIMEOUT_SECONDS,
        )
        logger.info("mail sent", to=mail.to, subject=mail.subject)  # never the credentials


def mailer_for(settings: Settings) -> Mailer:
    if settings.smtp_url is None:
        return LogMailer(settings.mail_from)
    return SmtpMailer(settings.smtp_url.get_secret_value(), settings.mail_from)
