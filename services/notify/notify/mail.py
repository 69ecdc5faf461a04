"""Email over SMTP (aiosmtplib): one message per notification, plain text and HTML, in Chinese.

The Message-ID is the notification's id, so a message sent again after a crash in the instant
between the server's acceptance and its recording carries the same id (receivers and the
tests see the repeat as one). A refusal the server states as permanent (5xx) is final; a
server that cannot be reached, times out or answers 4xx is retried later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from uuid import UUID

import aiosmtplib

from notify.messages import html_of
from notify.settings import NotifySettings


class SendError(Exception):
    """A send failed; ``permanent`` says whether trying again can help."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


def message_id(nid: UUID) -> str:
    """The Message-ID of a notification's email."""
    return f"<{nid}@notify.sanlian>"


def compose(nid: UUID, sender: str, to: str, title: str, text: str, at: datetime) -> EmailMessage:
    """The email: Chinese subject (RFC 2047 encoded by the library), a plain text part and an
    HTML alternative."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = title
    message["Date"] = format_datetime(at)
    message["Message-ID"] = message_id(nid)
    message.set_content(text, charset="utf-8")
    message.add_alternative(html_of(title, text), subtype="html", charset="utf-8")
    return message


@dataclass(frozen=True)
class Mailer:
    """Sends emails through the SMTP server the settings name."""

    settings: NotifySettings

    @property
    def configured(self) -> bool:
        """Whether an SMTP server is set (without one, email deliveries wait)."""
        return bool(self.settings.smtp_host)

    async def send(self, message: EmailMessage) -> None:
        """Send one message; :class:`SendError` says why not."""
        s = self.settings
        password = s.smtp_password.get_secret_value() if s.smtp_password else None
        try:
            await aiosmtplib.send(
                message,
                hostname=s.smtp_host,
                port=s.smtp_port,
                username=s.smtp_username,
                password=password,
                start_tls=s.smtp_starttls,
                timeout=s.smtp_timeout_seconds,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            permanent = all(500 <= code < 600 for code in codes)
            raise SendError(f"smtp recipients refused {codes}", permanent=permanent) from exc
        except aiosmtplib.SMTPResponseException as exc:
            permanent = 500 <= exc.code < 600
            raise SendError(f"smtp {exc.code}", permanent=permanent) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise SendError(f"smtp unavailable: {type(exc).__name__}", permanent=False) from exc
