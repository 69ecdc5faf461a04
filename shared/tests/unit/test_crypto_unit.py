"""Sealed-value format, malformed input and blind indexes, over an in-memory key store."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import uuid
from uuid import UUID

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from eventspine.crypto import (
    KeyDestroyedError,
    KeyStore,
    PersonalDataVault,
    blind_index,
)

SECRET = b"0123456789abcdef-test-secret"
DATA: dict[str, str | None] = {"phone": "13800000000", "name": "张东峰", "wechat_id": None}


class MemoryKeyStore:
    """A KeyStore in a dict that counts look-ups (the real ones are tested on real databases)."""

    def __init__(self) -> None:
        self.keys: dict[UUID, bytes | None] = {}
        self.lookups: list[UUID] = []

    async def open(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def key_for(self, subject_id: UUID, *, create: bool) -> bytes | None:
        self.lookups.append(subject_id)
        if subject_id in self.keys:
            key = self.keys[subject_id]
            if key is None and create:
                raise KeyDestroyedError(subject_id)
            return key
        if create:
            self.keys[subject_id] = os.urandom(32)
            return self.keys[subject_id]
        return None

    async def destroy(self, subject_id: UUID) -> bool:
        had = self.keys.get(subject_id) is not None
        self.keys[subject_id] = None
        return had


@pytest.fixture
def keys() -> MemoryKeyStore:
    return MemoryKeyStore()


@pytest.fixture
def vault(keys: MemoryKeyStore) -> PersonalDataVault:
    store: KeyStore = keys  # the fake satisfies the protocol (checked by mypy)
    return PersonalDataVault(store)


def _raw(sealed: str) -> bytes:
    body = sealed.removeprefix("v1.")
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))


async def test_sealed_value_is_versioned_unpadded_base64url_of_nonce_and_gcm_output(
    keys: MemoryKeyStore, vault: PersonalDataVault
) -> None:
    subject = uuid.uuid4()
    sealed = await vault.seal(subject, DATA)
    assert sealed.startswith("v1.")
    assert "=" not in sealed
    assert "+" not in sealed
    assert "/" not in sealed
    raw = _raw(sealed)
    # Anyone holding the key can open it with a standard AES-GCM: the format is the spec.
    key = keys.keys[subject]
    assert key is not None
    plaintext = AESGCM(key).decrypt(raw[:12], raw[12:], subject.bytes)
    assert plaintext == '{"name":"张东峰","phone":"13800000000","wechat_id":null}'.encode()
    assert len(raw) == 12 + len(plaintext) + 16


async def test_round_trip_of_empty_data(vault: PersonalDataVault) -> None:
    subject = uuid.uuid4()
    assert await vault.unseal(subject, await vault.seal(subject, {})) == {}


@pytest.mark.parametrize(
    "sealed",
    [
        "",
        "v1.",
        "v2.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "V1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "v1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA!",
        "v1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",
        "v1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+",
        "v1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "v1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "v1.AAAA AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ],
)
async def test_malformed_values_are_refused_before_any_key_is_looked_up(
    keys: MemoryKeyStore, vault: PersonalDataVault, sealed: str
) -> None:
    subject = uuid.uuid4()
    with pytest.raises(ValueError, match="not a sealed value"):
        await vault.unseal(subject, sealed)
    with pytest.raises(ValueError, match="not a sealed value"):
        await vault.unseal_many([(subject, sealed)])
    assert keys.lookups == []


async def test_a_value_with_altered_trailing_bits_is_refused(vault: PersonalDataVault) -> None:
    subject = uuid.uuid4()
    sealed = await vault.seal(subject, {"name": "ab"})  # 41 bytes: the last character is partial
    # base64 decoders ignore the unused low bits of a final character; this one does not.
    assert len(sealed.removeprefix("v1.")) % 4 != 0
    last = sealed[-1]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    neighbour = alphabet[alphabet.index(last) ^ 1]
    with pytest.raises(ValueError, match="not a sealed value"):
        await vault.unseal(subject, sealed[:-1] + neighbour)


async def test_personal_data_must_map_strings_to_strings_or_none(vault: PersonalDataVault) -> None:
    with pytest.raises(TypeError):
        await vault.seal(uuid.uuid4(), {"age": 42})  # type: ignore[dict-item]


async def test_a_subject_that_never_had_a_key_unseals_to_none_without_getting_one(
    keys: MemoryKeyStore, vault: PersonalDataVault
) -> None:
    sealed = await vault.seal(uuid.uuid4(), DATA)
    stranger = uuid.uuid4()
    assert await vault.unseal(stranger, sealed) is None
    assert stranger not in keys.keys


async def test_unseal_many_asks_for_each_subjects_key_once_and_keeps_the_order(
    keys: MemoryKeyStore, vault: PersonalDataVault
) -> None:
    a, b, gone = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    a1 = await vault.seal(a, {"name": "甲"})
    a2 = await vault.seal(a, {"name": "甲乙"})
    b1 = await vault.seal(b, {"name": "乙"})
    g1 = await vault.seal(gone, {"name": "丙"})
    assert await vault.forget(gone)
    keys.lookups.clear()

    result = await vault.unseal_many([(a, a1), (gone, g1), (b, b1), (a, a2), (gone, g1)])

    assert result == [{"name": "甲"}, None, {"name": "乙"}, {"name": "甲乙"}, None]
    assert sorted(keys.lookups) == sorted([a, b, gone])
    assert await vault.unseal_many([]) == []


async def test_unseal_many_refuses_a_value_moved_to_another_subject(
    vault: PersonalDataVault,
) -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    a1 = await vault.seal(a, {"name": "甲"})
    b1 = await vault.seal(b, {"name": "乙"})
    with pytest.raises(ValueError, match="another subject"):
        await vault.unseal_many([(a, a1), (a, b1)])


def test_blind_index_is_a_deterministic_hex_hmac_sha256() -> None:
    first = blind_index(SECRET, "external_number", "unit-1", "YJ-0042")
    assert first == blind_index(SECRET, "external_number", "unit-1", "YJ-0042")
    assert len(first) == 64
    assert int(first, 16) >= 0


def test_blind_index_layout_is_length_prefixed_utf8() -> None:
    # Pinned so that other languages (and later versions) compute the same index.
    message = b"".join(
        len(part.encode()).to_bytes(8, "big") + part.encode() for part in ("单位", "YJ-0042")
    )
    expected = hmac.new(SECRET, message, hashlib.sha256).hexdigest()
    assert blind_index(SECRET, "单位", "YJ-0042") == expected


def test_blind_index_depends_on_the_secret_and_on_the_split_between_parts() -> None:
    assert blind_index(SECRET, "13800000000") != blind_index(SECRET + b"x", "13800000000")
    assert blind_index(SECRET, "ab", "c") != blind_index(SECRET, "a", "bc")
    assert blind_index(SECRET, "abc") != blind_index(SECRET, "ab", "c")
    assert blind_index(SECRET, "a", "b") != blind_index(SECRET, "b", "a")
    assert blind_index(SECRET, "", "a") != blind_index(SECRET, "a", "")
    assert blind_index(SECRET, "13800000000") != hashlib.sha256(b"13800000000").hexdigest()


def test_blind_index_refuses_a_short_secret() -> None:
    with pytest.raises(ValueError, match="at least 16 bytes"):
        blind_index(b"short", "13800000000")
