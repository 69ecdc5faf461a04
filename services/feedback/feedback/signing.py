"""Signed intake links and follow-up codes: values only the installation can make.

A link's token is ``<link id>.<signature>`` (base64url), the signature an HMAC-SHA256 under
``SANLIAN_AUTH_SECRET`` (the secret the access tokens are signed with) of the link id and the
purpose, truncated to 128 bits: a forged token fails the check before anything is read, and a
real one can be printed again from the link id alone (nothing secret is stored). Revocation is
an event, checked against the read model once the signature holds.

A follow-up code is derived the same way from the suggestion id, so a retried submission gets
the same code back; events keep only its blind index (``SANLIAN_INDEX_SECRET``), by which the
follow-up page finds the suggestion.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from uuid import UUID

from eventspine.crypto import blind_index

_LINK_PURPOSE = b"sanlian intake link\x00"
_CODE_PURPOSE = b"sanlian follow-up code\x00"
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are read and typed
CODE_LENGTH = 16  # 80 bits
_CODE = re.compile(rf"[{_ALPHABET}]{{{CODE_LENGTH}}}")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Signer:
    """Makes and checks intake tokens and follow-up codes."""

    def __init__(self, auth_secret: bytes, index_secret: bytes) -> None:
        self._auth = auth_secret
        self._index = index_secret

    def _signature(self, link_id: UUID) -> bytes:
        return hmac.new(self._auth, _LINK_PURPOSE + link_id.bytes, hashlib.sha256).digest()[:16]

    def link_token(self, link_id: UUID) -> str:
        """The token an intake link's URL and QR code carry."""
        return f"{_b64(link_id.bytes)}.{_b64(self._signature(link_id))}"

    def link_id(self, token: str) -> UUID | None:
        """The link a token names, or None if it is not one this installation signed."""
        if len(token) > 64 or token.count(".") != 1:
            return None
        head, tail = token.split(".")
        try:
            link_id = UUID(bytes=_unb64(head))
            signature = _unb64(tail)
        except (ValueError, binascii.Error):
            return None
        if _b64(link_id.bytes) != head or _b64(signature) != tail:
            return None  # one spelling per token: unused padding bits must be zero
        return link_id if hmac.compare_digest(signature, self._signature(link_id)) else None

    def follow_up_code(self, suggestion_id: UUID) -> str:
        """The code the worker follows a suggestion with (16 letters and digits)."""
        digest = hmac.new(self._auth, _CODE_PURPOSE + suggestion_id.bytes, hashlib.sha256).digest()
        number = int.from_bytes(digest[:10], "big")
        chars = []
        for _ in range(CODE_LENGTH):
            number, digit = divmod(number, len(_ALPHABET))
            chars.append(_ALPHABET[digit])
        return "".join(chars)

    def follow_up_index(self, code: str) -> str | None:
        """The blind index a follow-up code is found by (None: not a code's shape)."""
        clean = normalise_code(code)
        return blind_index(self._index, "follow_up", clean) if clean else None


def normalise_code(code: str) -> str | None:
    """A code as typed (any case, spaces or dashes between groups), or None if malformed."""
    clean = re.sub(r"[\s\-]", "", code).upper()
    return clean if _CODE.fullmatch(clean) else None
