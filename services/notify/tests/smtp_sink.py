"""A real SMTP server for the tests: ``python -m aiosmtpd -n -c smtp_sink.Sink <folder>``.

Each message it accepts is written to ``<folder>`` as one ``.eml`` file (written whole, then
renamed, so a reader never sees half a message), so the test process can count and read what
arrived while the server runs in a process of its own.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any


class Sink:
    """An aiosmtpd handler keeping every message as a file."""

    def __init__(self, folder: str) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    @classmethod
    def from_cli(cls, parser: Any, *args: str) -> Sink:
        """What ``python -m aiosmtpd -c smtp_sink.Sink <folder>`` builds."""
        if len(args) != 1:
            parser.error("smtp_sink.Sink takes one argument: the folder")
        return cls(args[0])

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Keep the message, then accept it."""
        name = uuid.uuid4().hex
        partial = self.folder / f"{name}.part"
        partial.write_bytes(envelope.original_content or envelope.content)
        os.replace(partial, self.folder / f"{name}.eml")
        return "250 OK"
