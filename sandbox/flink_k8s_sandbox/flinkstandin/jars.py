"""Jars uploaded to a stand-in JobManager (``/jars``): kept in memory, with the entry
classes their manifest names, as Flink's ``JarListHandler`` lists them, and the classes
they hold (a plan or run of a class the jar lacks is refused, as Flink refuses it)."""

from __future__ import annotations

import io
import time
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

__all__ = ["JarStore", "UploadedJar", "jar_classes", "manifest_entry_classes"]


def jar_classes(content: bytes) -> frozenset[str]:
    """The binary names of the classes in a jar (``a.b.C`` for ``a/b/C.class``); empty
    for a file that is not a jar."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return frozenset()
    return frozenset(
        name.removesuffix(".class").replace("/", ".")
        for name in names
        if name.endswith(".class") and not name.startswith("META-INF/")
    )


def manifest_entry_classes(content: bytes) -> tuple[str, ...]:
    """The entry class a jar's manifest names (``program-class``, else ``Main-Class``),
    as Flink reads it; ``()`` for none or a file that is not a jar."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            manifest = archive.read("META-INF/MANIFEST.MF").decode("utf-8", "replace")
    except (zipfile.BadZipFile, KeyError, OSError):
        return ()
    attributes: dict[str, str] = {}
    for line in manifest.replace("\r\n", "\n").replace("\n ", "").splitlines():
        key, sep, value = line.partition(":")
        if sep:
            attributes[key.strip().lower()] = value.strip()
    found = attributes.get("program-class") or attributes.get("main-class")
    return (found,) if found else ()


@dataclass(frozen=True)
class UploadedJar:
    """One upload: its id (``<uuid>_<file name>``), name, time, entry classes and the
    classes it holds."""

    id: str
    name: str
    uploaded_ms: int
    entry_classes: tuple[str, ...]
    classes: frozenset[str] = frozenset()

    def json(self) -> dict[str, Any]:
        entries = [{"name": name, "description": None} for name in self.entry_classes]
        return {"id": self.id, "name": self.name, "uploaded": self.uploaded_ms, "entry": entries}


class JarStore:
    """The jars of one JobManager, in upload order.

    :param tmpdir: the JobManager's ``web.tmpdir`` (upload paths are reported under it).
    """

    def __init__(self, tmpdir: str) -> None:
        self.folder = f"{tmpdir.rstrip('/')}/flink-web-{uuid.uuid4()}/flink-web-upload"
        self._jars: dict[str, UploadedJar] = {}

    def add(self, filename: str, content: bytes) -> str:
        """Store an upload; the path Flink reports (``filename`` of the answer)."""
        name = PurePosixPath(filename).name or "upload.jar"
        jar = UploadedJar(
            f"{uuid.uuid4()}_{name}",
            name,
            int(time.time() * 1000),
            manifest_entry_classes(content),
            jar_classes(content),
        )
        self._jars[jar.id] = jar
        return f"{self.folder}/{jar.id}"

    def get(self, jar_id: str) -> UploadedJar | None:
        return self._jars.get(jar_id)

    def remove(self, jar_id: str) -> bool:
        return self._jars.pop(jar_id, None) is not None

    def list(self) -> list[UploadedJar]:
        """Newest first, as Flink lists them."""
        return sorted(self._jars.values(), key=lambda jar: jar.uploaded_ms, reverse=True)
