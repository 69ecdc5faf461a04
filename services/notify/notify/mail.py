"""Email over SMTP (aiosmtplib): one message per notification, plain text and HTML, in Chinese.

The Message-ID is the notification's id, so a message sent again after a crash in the instant
between the server's acceptance and its recording carries the same id (receivers and the
tests see the repeat as one). The envelope (MAIL, RCPT) goes first, then the sender is told
(:class:`notify.events.DeliveryHandedOver` is recorded), then the data: a crash before that
record cannot have left a message at the server. A refusal the server states as permanent
(5xx) is final; a server that cannot be reached, times out or answers 4xx is retried later.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from uuid import UUID

import aiosmtplib
from aiosmtplib.email import flatten_message

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

    async def send(
        self, message: EmailMessage, handed_over: Callable[[], Awaitable[None]] | None = None
    ) -> None:
        """Send one message (to its one recipient); :class:`SendError` says why not.
        ``handed_over`` is awaited once the server accepted the envelope (MAIL, RCPT) and
        before the data goes: from then until the answer, a cut-off send is in doubt."""
        s = self.settings
        password = s.smtp_password.get_secret_value() if s.smtp_password else None
        sender, to = str(message["From"]), str(message["To"])
        client = aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_username,
            password=password,
            start_tls=s.smtp_starttls,
            timeout=s.smtp_timeout_seconds,
        )
        try:
            async with client:  # connect, EHLO, STARTTLS and sign-in as the settings say
                options, utf8 = [], not (sender + to).isascii()
                if utf8:
                    if not client.supports_extension("smtputf8"):
                        raise SendError("smtp server takes no SMTPUTF8 address", permanent=True)
                    options.append("SMTPUTF8")
                cte = "7bit"
                if client.supports_extension("8BITMIME"):
                    options.append("BODY=8BITMIME")
                    cte = "8bit"
                data = flatten_message(message, utf8=utf8, cte_type=cte)
                encoding = "utf-8" if utf8 else "ascii"
                await client.mail(sender, options=options, encoding=encoding)
                await client.rcpt(to, encoding=encoding)
                if handed_over is not None:
                    await handed_over()
                await client.data(data)
        except aiosmtplib.SMTPResponseException as exc:
            permanent = 500 <= exc.code < 600
            raise SendError(f"smtp {exc.code}", permanent=permanent) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise SendError(f"smtp unavailable: {type(exc).__name__}", permanent=False) from exc
