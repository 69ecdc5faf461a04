"""Declaring event types: frozen pydantic models with an explicit name and schema version.

An event type is identified by ``(name, version)``, never by a Python import path, so modules
can be renamed without breaking history. A change to an event's shape is a new version plus an
upcaster from the previous one; stored events are never rewritten.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from eventspine.errors import InvalidEventError, UnknownEventTypeError

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


class DomainEvent(BaseModel):
    """Base of every event type. Subclasses set ``event_type`` and ``event_version``.

    Events carry data only (no behaviour) and are immutable. Personal data never appears in
    clear: such fields hold ciphertext (see ARCHITECTURE.md, "Personal data").
    """

    model_config = ConfigDict(frozen=True, extra="forbid", strict=False)

    event_type: ClassVar[str]
    event_version: ClassVar[int] = 1

    @classmethod
    def type_key(cls) -> tuple[str, int]:
        """The registry key of this event type: ``(name, version)``."""
        return cls.event_type, cls.event_version


class EventRegistry:
    """The event types one deployment knows, with the upcasters between their versions.

    Built by each service's composition root from the services' event catalogues; decoding
    goes through it, so an unknown type or a payload that fails its schema is refused.
    """

    def __init__(self, types: Iterable[type[DomainEvent]] = ()) -> None:
        self._types: dict[tuple[str, int], type[DomainEvent]] = {}
        self._latest: dict[str, int] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}
        self._sources: dict[tuple[str, int], str] = {}
        # The validator of each type's latest version, by the key stored data carries: the
        # consumers' hot path (no upcasting to do) is one look-up and one call.
        self._current: dict[tuple[str, int], Callable[[Any], DomainEvent]] = {}
        for event_type in types:
            self.register(event_type)

    def register(self, event_type: type[DomainEvent], source: str = "sanlian") -> None:
        """Add an event type; ``source`` names the service that owns it (used for schemas)."""
        key = event_type.type_key()
        if key in self._types and self._types[key] is not event_type:
            raise ValueError(f"event type {key[0]} v{key[1]} is registered twice")
        self._types[key] = event_type
        self._sources[key] = source
        self._latest[key[0]] = max(self._latest.get(key[0], 0), key[1])
        self._refresh_current(key[0])

    def register_upcaster(self, name: str, from_version: int, upcaster: Upcaster) -> None:
        """Declare how a ``name`` payload at ``from_version`` becomes ``from_version + 1``."""
        self._upcasters[(name, from_version)] = upcaster

    def _refresh_current(self, name: str) -> None:
        """Keep the no-upcast validator of ``name`` on its latest version."""
        for key in [key for key in self._current if key[0] == name]:
            del self._current[key]
        latest = (name, self._latest[name])
        self._current[latest] = self._types[latest].__pydantic_validator__.validate_python

    def add_catalogue(self, source: str, catalogue: EventCatalogue) -> None:
        """Register a service's whole catalogue: its event types and upcasters."""
        for event_type in catalogue.types:
            self.register(event_type, source)
        for (name, version), upcaster in catalogue.upcasters.items():
            self.register_upcaster(name, version, upcaster)

    def __contains__(self, key: object) -> bool:
        return key in self._types

    def __iter__(self) -> Any:
        return iter(sorted(self._types.items()))

    def source_of(self, name: str, version: int) -> str:
        """The service that owns an event type."""
        return self._sources[(name, version)]

    def resolve(self, name: str, version: int) -> type[DomainEvent]:
        """The model class of an exact ``(name, version)``."""
        try:
            return self._types[(name, version)]
        except KeyError:
            raise UnknownEventTypeError(name, version) from None

    def validate(self, event: DomainEvent) -> None:
        """Refuse an event whose type is not registered (the store calls this before writing)."""
        self.resolve(*event.type_key())

    def decode(self, name: str, version: int, data: Mapping[str, Any]) -> DomainEvent:
        """Build the latest version of an event from stored data, upcasting older versions."""
        current = self._current.get((name, version))
        if current is not None:  # already the latest version: nothing to upcast
            try:
                return current(data)
            except ValidationError as exc:
                raise _invalid(exc) from exc
        latest = self._latest.get(name)
        if latest is None:
            raise UnknownEventTypeError(name)
        model = self.resolve(name, version)
        payload = data
        if version < latest:  # upcasters get a copy: the stored data is never changed
            payload = dict(data)
            while version < latest:
                upcaster = self._upcasters.get((name, version))
                if upcaster is None:
                    break  # older versions stay readable as themselves without an upcaster
                payload = upcaster(payload)
                version += 1
            model = self.resolve(name, version)
        try:
            # The model's validator itself (every consumed record comes through here).
            event: DomainEvent = model.__pydantic_validator__.validate_python(payload)
            return event
        except ValidationError as exc:
            raise _invalid(exc) from exc


def _invalid(exc: ValidationError) -> InvalidEventError:
    """The refusal of data that fails its event type's schema, naming the first field."""
    first = exc.errors()[0]
    loc = ".".join(str(part) for part in first["loc"])
    return InvalidEventError(f"data.{loc}" if loc else "data", first["msg"])


class EventCatalogue:
    """What one service declares: its event types and the upcasters between their versions.

    A plain value (no registration at import time); composition roots feed it to a registry.
    """

    def __init__(
        self,
        types: Iterable[type[DomainEvent]],
        upcasters: Mapping[tuple[str, int], Upcaster] | None = None,
    ) -> None:
        self.types = tuple(types)
        self.upcasters = dict(upcasters or {})
