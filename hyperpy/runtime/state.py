"""Persisted app state: save policies, a schema-tolerant stored form, migrations, and quarantine.

Rust hyperapp stores state as positional MessagePack and panics when it cannot decode it, so adding
a field bricks an app until its state is cleared (hyperdrive PR #827); its `EveryNSeconds` never
saves; and async handlers are saved when spawned, not when done. Here:

* the stored form is JSON with field *names* plus a version: new fields take their defaults,
  removed fields are ignored, `@migrate(from_version=n)` functions upgrade older versions;
* state that cannot be decoded is never fatal: whatever fields decode are kept, the raw bytes are
  kept aside inside the new stored form (see `kept_aside_state()`) and the problem is printed;
* policies are applied when a handler *finishes* (after its last `await`), and `EveryNSeconds`
  really saves, on a timer, when something changed.
"""

from __future__ import annotations

import base64
import dataclasses
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hyperpy.runtime import jsonwire
from hyperpy.runtime.codec import Codec, UnsupportedType, codec_for
from hyperpy.runtime.errors import CodecError, DeclarationError

FORMAT_KEY = "hyperpy_state"
FORMAT_VERSION = 1
MAX_KEPT_ASIDE = 3
TRANSIENT = "hyperpy_transient"


class SavePolicy:
    """Base of the save policies; pick one in `@app(save=...)`."""


@dataclass(frozen=True)
class Never(SavePolicy):
    """Never save automatically (call `save_state()` yourself)."""


@dataclass(frozen=True)
class EveryMessage(SavePolicy):
    """Save after every handled message, once its handler has finished."""


@dataclass(frozen=True)
class EveryNMessage(SavePolicy):
    """Save after every `n`-th handled message."""

    n: int

    def __post_init__(self) -> None:
        if isinstance(self.n, bool) or not isinstance(self.n, int) or self.n < 1:
            raise DeclarationError(f"EveryNMessage(n): n must be an integer >= 1, got {self.n!r}")


@dataclass(frozen=True)
class EveryNSeconds(SavePolicy):
    """Save at most every `n` seconds, when the state changed since the last save."""

    n: float

    def __post_init__(self) -> None:
        if isinstance(self.n, bool) or not isinstance(self.n, int | float) or self.n <= 0:
            raise DeclarationError(f"EveryNSeconds(n): n must be a positive number, got {self.n!r}")


@dataclass(frozen=True)
class OnDiff(SavePolicy):
    """Save after a handled message when the stored form differs from the last one saved."""


def transient(*, default: Any = dataclasses.MISSING, default_factory: Any = dataclasses.MISSING) -> Any:
    """A state field that is never saved (caches, open handles); it starts from its default."""
    if default is dataclasses.MISSING and default_factory is dataclasses.MISSING:
        raise DeclarationError("transient() needs default= or default_factory=")
    if default_factory is not dataclasses.MISSING:
        return field(default_factory=default_factory, metadata={TRANSIENT: True})
    return field(default=default, metadata={TRANSIENT: True})


@dataclass(frozen=True)
class KeptAside:
    """Stored state that could not be loaded, kept so nothing is lost. `data` is the raw bytes."""

    reason: str
    data: bytes


@dataclass(frozen=True)
class StateField:
    name: str
    codec: Codec


def state_fields(cls: type) -> list[StateField]:
    """The persisted fields of an app class; raise DeclarationError for unusable ones."""
    try:
        hints = typing.get_type_hints(cls, include_extras=True)
    except NameError as error:
        raise DeclarationError(
            f"app {cls.__qualname__}: cannot resolve a state field type ({error}); define or import it "
            "at module level"
        ) from None
    result = []
    for f in dataclasses.fields(cls):
        if f.metadata.get(TRANSIENT):
            continue
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise DeclarationError(
                f"app {cls.__qualname__}: state field '{f.name}' has no default; the state is created "
                f"fresh on first start, so write e.g. '{f.name}: ... = <default>' or use "
                "field(default_factory=...)"
            )
        if not f.init:
            continue
        try:
            codec = codec_for(hints.get(f.name, Any))
        except UnsupportedType as error:
            raise DeclarationError(f"app {cls.__qualname__}: state field '{f.name}': {error}") from None
        result.append(StateField(f.name, codec))
    return result


def migrations_of(cls: type) -> dict[int, Callable[[dict[str, Any]], dict[str, Any]]]:
    """`from_version → function` for every `@migrate` function defined on the class."""
    from hyperpy.runtime.decorators import MIGRATION_ATTR

    found: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}
    for name, raw in vars(cls).items():
        function = raw.__func__ if isinstance(raw, staticmethod | classmethod) else raw
        version = getattr(function, MIGRATION_ATTR, None)
        if version is None:
            continue
        if not isinstance(raw, staticmethod):
            raise DeclarationError(
                f"app {cls.__qualname__}: migration '{name}' must be a @staticmethod taking the stored "
                "fields dict and returning the new one"
            )
        if version in found:
            raise DeclarationError(f"app {cls.__qualname__}: two migrations from version {version}")
        found[version] = typing.cast(Callable[[dict[str, Any]], dict[str, Any]], function)
    return found


class StateCodec:
    """Encodes an app instance to the stored form and loads it back, tolerantly."""

    def __init__(self, cls: type, version: int) -> None:
        self.cls = cls
        self.version = version
        self.fields = state_fields(cls)
        self.migrations = migrations_of(cls)
        for from_version in self.migrations:
            if from_version >= version:
                raise DeclarationError(
                    f"app {cls.__qualname__}: migration from version {from_version} but state_version is "
                    f"{version}; raise @app(state_version=...) to {from_version + 1}"
                )
        self.has_float = any(f.codec.has_float for f in self.fields)
        self.kept_aside: list[KeptAside] = []

    def encode(self, instance: Any) -> bytes:
        fields = {f.name: f.codec.encode(getattr(instance, f.name), f"state.{f.name}") for f in self.fields}
        envelope: dict[str, Any] = {FORMAT_KEY: FORMAT_VERSION, "version": self.version, "fields": fields}
        if self.kept_aside:
            envelope["kept_aside"] = [
                {"reason": k.reason, "data": base64.b64encode(k.data).decode("ascii")}
                for k in self.kept_aside
            ]
        return jsonwire.dumps(envelope, has_float=self.has_float)

    def fresh(self) -> Any:
        return self.cls()

    def restore_into(self, instance: Any, raw: bytes) -> None:
        """Set `instance`'s state fields back to `raw` (bytes this codec encoded in this run).

        Assigns in place, so handlers holding `self` see the restored values; transient fields
        are not state and keep theirs."""
        fields = jsonwire.loads(raw)["fields"]
        for f in self.fields:
            setattr(instance, f.name, f.codec.decode(fields[f.name], f"state.{f.name}"))

    def load(self, raw: bytes | None) -> tuple[Any, list[str]]:
        """Return (instance, problems). Never raises for bad stored data; problems say what was lost."""
        if raw is None:
            return self.fresh(), []
        try:
            envelope = jsonwire.loads(raw)
            if not isinstance(envelope, dict) or envelope.get(FORMAT_KEY) != FORMAT_VERSION:
                raise ValueError("it is not hyperpy state (no 'hyperpy_state' marker)")
            version = envelope.get("version")
            fields = envelope.get("fields")
            if not isinstance(version, int) or not isinstance(fields, dict):
                raise ValueError("its 'version' or 'fields' entry is malformed")
        except ValueError as error:
            return self._quarantine(raw, f"stored state could not be read: {error}"), self._problems()
        self._restore_kept_aside(envelope.get("kept_aside"))
        if version > self.version:
            reason = (
                f"stored state has version {version}, newer than this app's state_version {self.version} "
                "(was a newer build installed before?)"
            )
            return self._quarantine(raw, reason), self._problems()
        for from_version in range(version, self.version):
            migration = self.migrations.get(from_version)
            if migration is None:
                continue  # no hook: rely on the tolerant load below
            try:
                migrated = migration(dict(fields))
                if not isinstance(migrated, dict):
                    raise TypeError(f"returned {type(migrated).__name__}, expected dict")
                fields = migrated
            except Exception as error:
                reason = f"migration from version {from_version} failed: {type(error).__name__}: {error}"
                return self._quarantine(raw, reason), self._problems()
        return self._build(raw, fields)

    def _build(self, raw: bytes, fields: dict[str, Any]) -> tuple[Any, list[str]]:
        kwargs: dict[str, Any] = {}
        failures = []
        for f in self.fields:
            if f.name not in fields:
                continue
            try:
                kwargs[f.name] = f.codec.decode(fields[f.name], f"state.{f.name}")
            except CodecError as error:
                failures.append(str(error))
        instance = self.cls(**kwargs)
        if failures:
            self._keep(raw, "fields reset to their defaults: " + "; ".join(failures))
        return instance, self._problems() if failures else []

    def _quarantine(self, raw: bytes, reason: str) -> Any:
        self._keep(raw, reason)
        return self.fresh()

    def _keep(self, raw: bytes, reason: str) -> None:
        self.kept_aside.append(KeptAside(reason, bytes(raw)))
        del self.kept_aside[:-MAX_KEPT_ASIDE]

    def _problems(self) -> list[str]:
        return [self.kept_aside[-1].reason] if self.kept_aside else []

    def _restore_kept_aside(self, entries: Any) -> None:
        if not isinstance(entries, list):
            return
        for entry in entries[-MAX_KEPT_ASIDE:]:
            try:
                self.kept_aside.append(KeptAside(str(entry["reason"]), base64.b64decode(entry["data"])))
            except (KeyError, TypeError, ValueError):
                continue


class StateKeeper:
    """Applies the save policy for one running process.

    `write` persists bytes (the host's `set_state`); `schedule(delay, callback)` runs a callback later
    on the process's loop (for `EveryNSeconds`).
    """

    def __init__(
        self,
        codec: StateCodec,
        policy: SavePolicy,
        write: Callable[[bytes], None],
        schedule: Callable[[float, Callable[[], None]], Any],
        rollback: bool = True,
    ) -> None:
        self.codec = codec
        self.policy = policy
        self._write = write
        self._schedule = schedule
        self.rollback = rollback
        # The state after the last handler that finished without raising (see `message_done`).
        self._committed: bytes | None = None
        self._last_saved: bytes | None = None
        self._messages = 0
        self._flush_pending = False
        self.instance: Any = None
        self.saves = 0

    def load(self, raw: bytes | None) -> tuple[Any, list[str]]:
        instance, problems = self.codec.load(raw)
        self.instance = instance
        self._last_saved = raw if not problems else None
        if self.rollback:
            self._committed = self.codec.encode(instance)
        return instance, problems

    def save(self) -> bool:
        """Write the state now if it differs from what is stored; return whether it wrote."""
        return self._save_if_changed(self.codec.encode(self.instance))

    def _save_if_changed(self, data: bytes) -> bool:
        if data == self._last_saved:
            return False
        self._store(data)
        return True

    def _store(self, data: bytes) -> None:
        self._write(data)
        self._last_saved = data
        self.saves += 1

    def message_done(self, failed: bool = False) -> None:
        """A handler finished: save if the policy says so; if it raised, roll the state back first.

        Rolling back mirrors Rust hyperapp, where a panicking handler restarts the process from its
        last save, but loses nothing else: the state returns to what it was after the last handler
        that finished without raising (for a sync handler: exactly before it), and the failed
        handler's changes are never saved. Async handlers suspended at the same time lose their
        unfinished changes too. `@app(rollback_on_error=False)` keeps partial changes instead (and
        saves one state encoding per message for policies other than OnDiff/EveryMessage).
        """
        if failed and self.rollback and self._committed is not None:
            self.codec.restore_into(self.instance, self._committed)
            return
        policy = self.policy
        data: bytes | None = None
        if isinstance(policy, EveryMessage):
            data = self.codec.encode(self.instance)
            self._store(data)
        elif isinstance(policy, EveryNMessage):
            self._messages += 1
            if self._messages >= policy.n:
                self._messages = 0
                data = self.codec.encode(self.instance)
                self._store(data)
        elif isinstance(policy, OnDiff):
            data = self.codec.encode(self.instance)
            self._save_if_changed(data)
        elif isinstance(policy, EveryNSeconds) and not self._flush_pending:
            self._flush_pending = True
            self._schedule(policy.n, self._flush)
        if self.rollback:
            self._committed = data if data is not None else self.codec.encode(self.instance)

    def _flush(self) -> None:
        self._flush_pending = False
        self.save()

    def discard_kept_aside(self) -> None:
        self.codec.kept_aside.clear()
        self.save()
