"""In-memory objects with one cluster-wide resourceVersion, watch history and subscribers.

The store is the etcd of the sandbox: it keeps the objects of each type under
``(namespace, name)``, stamps every write with the next resourceVersion, remembers a
bounded history of events per type (so a watch can resume from a resourceVersion, and
gets 410 once that history is gone) and tells subscribers about each committed event,
synchronously, in commit order. Subscribers -- watch streams, the in-process
controllers -- must not write from inside their callback; they queue work instead.

The store checks nothing: the request pipeline (:mod:`.storage`) decides what may be
written. Objects handed out are the stored ones and must not be mutated.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from flink_k8s_sandbox.copying import json_copy
from flink_k8s_sandbox.resources import TypeKey

__all__ = ["HistoryExpired", "Store", "StoreEvent", "Subscriber"]

Obj = dict[str, Any]


@dataclass(frozen=True)
class StoreEvent:
    """One committed change: ``obj`` is the new state (the last one for DELETED)."""

    type: str
    key: TypeKey
    rv: int
    obj: Obj
    old: Obj | None


Subscriber = Callable[[StoreEvent], None]


class HistoryExpired(Exception):
    """Raised when events after a resourceVersion are no longer all retained."""

    def __init__(self, requested: int, oldest: int) -> None:
        super().__init__(f"too old resource version: {requested} ({oldest})")
        self.requested = requested
        self.oldest = oldest


class _History:
    def __init__(self, limit: int, horizon: int) -> None:
        self.events: deque[StoreEvent] = deque()
        self.limit = limit
        self.horizon = horizon  # every event with rv > horizon is retained

    def append(self, event: StoreEvent) -> None:
        self.events.append(event)
        while len(self.events) > self.limit:
            self.horizon = self.events.popleft().rv

    def since(self, rv: int) -> list[StoreEvent]:
        if rv < self.horizon:
            raise HistoryExpired(rv, self.horizon)
        newer: list[StoreEvent] = []
        for event in reversed(self.events):
            if event.rv <= rv:
                break
            newer.append(event)
        newer.reverse()
        return newer


class Store:
    """Objects by type, one resourceVersion counter, per-type history, subscribers.

    :param history_limit: events kept per type for watch resumption.
    """

    def __init__(self, history_limit: int = 1000) -> None:
        self._objects: dict[TypeKey, dict[tuple[str, str], Obj]] = {}
        self._history: dict[TypeKey, _History] = {}
        self._subscribers: dict[int, tuple[TypeKey | None, Subscriber]] = {}
        self._next_subscription = 0
        self._rv = 0
        self.history_limit = history_limit

    @property
    def resource_version(self) -> int:
        """The resourceVersion of the last write (``0`` before any)."""
        return self._rv

    def get(self, key: TypeKey, namespace: str, name: str) -> Obj | None:
        return self._objects.get(key, {}).get((namespace, name))

    def objects(self, key: TypeKey, namespace: str | None = None) -> list[Obj]:
        """Objects of a type, in (namespace, name) order; ``namespace=None`` means all."""
        objects = self._objects.get(key, {})
        keys = sorted(k for k in objects if namespace is None or k[0] == namespace)
        return [objects[k] for k in keys]

    def count(self, key: TypeKey) -> int:
        return len(self._objects.get(key, {}))

    def iter_all(self) -> Iterator[tuple[TypeKey, Obj]]:
        for key, objects in list(self._objects.items()):
            for obj in list(objects.values()):
                yield key, obj

    def create(self, key: TypeKey, obj: Obj) -> Obj:
        """Store a new object; it gets the next resourceVersion (ADDED)."""
        return self._commit("ADDED", key, obj, None)

    def update(self, key: TypeKey, obj: Obj) -> Obj:
        """Replace a stored object; it gets the next resourceVersion (MODIFIED)."""
        old = self.get(key, *_ident(obj))
        if old is None:
            raise KeyError(_ident(obj))
        return self._commit("MODIFIED", key, obj, old)

    def remove(self, key: TypeKey, obj: Obj) -> Obj:
        """Drop a stored object; its last state gets the next resourceVersion (DELETED)."""
        old = self.get(key, *_ident(obj))
        if old is None:
            raise KeyError(_ident(obj))
        return self._commit("DELETED", key, obj, old)

    def _commit(self, kind: str, key: TypeKey, obj: Obj, old: Obj | None) -> Obj:
        self._rv += 1
        stored = json_copy(obj)
        stored.setdefault("metadata", {})["resourceVersion"] = str(self._rv)
        objects = self._objects.setdefault(key, {})
        if kind == "DELETED":
            del objects[_ident(stored)]
        else:
            objects[_ident(stored)] = stored
        event = StoreEvent(kind, key, self._rv, stored, old)
        self._history_of(key).append(event)
        for type_key, subscriber in list(self._subscribers.values()):
            if type_key is None or type_key == key:
                subscriber(event)
        return stored

    def _history_of(self, key: TypeKey) -> _History:
        history = self._history.get(key)
        if history is None:
            history = self._history[key] = _History(self.history_limit, 0)
        return history

    def events_since(self, key: TypeKey, rv: int) -> list[StoreEvent]:
        """Events of a type after ``rv``, oldest first.

        :raises HistoryExpired: when some of them are no longer retained.
        """
        return self._history_of(key).since(rv)

    def horizon(self, key: TypeKey) -> int:
        """Watches and continue tokens from before this resourceVersion get 410."""
        return self._history_of(key).horizon

    def compact(self, key: TypeKey | None = None) -> None:
        """Forget retained events (of one type or all): older watches then get 410."""
        for type_key in [key] if key is not None else list(self._history):
            history = self._history_of(type_key)
            history.events.clear()
            history.horizon = self._rv

    def subscribe(self, subscriber: Subscriber, key: TypeKey | None = None) -> Callable[[], None]:
        """Call ``subscriber`` with every committed event (of one type, or all).

        :return: a function that ends the subscription.
        """
        token = self._next_subscription
        self._next_subscription += 1
        self._subscribers[token] = (key, subscriber)

        def unsubscribe() -> None:
            self._subscribers.pop(token, None)

        return unsubscribe

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)


def _ident(obj: Obj) -> tuple[str, str]:
    metadata = obj.get("metadata", {})
    return (metadata.get("namespace") or "", metadata["name"])
