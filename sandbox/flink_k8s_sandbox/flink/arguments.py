"""A Flink container's arguments, read the way Flink 2.3's entrypoints read them.

A standalone pod runs the image's entrypoint with ``jobmanager``, ``taskmanager`` or
``standalone-job ...`` (the official image's ``docker-entrypoint.sh``). The
scripts hand the remaining arguments to the Java entrypoint, whose parser (commons-cli's
``DefaultParser`` with ``stopAtNonOption``) takes options up to ``--`` or the first token
it does not know; everything from there on is left over -- the job's arguments for
``standalone-job``, ignored by the other two.

Options per entrypoint (from the parser factories in ``flink-dist-2.3.0.jar``):

==================  =====================================================================
all                 ``-c``/``--configDir <dir>``, ``-D <key>=<value>`` (or ``-D<key>=<value>``)
``standalone-job``  ``-j``/``--job-classname``, ``-jid``/``--job-id``, ``--jars`` (one or
                    more), ``-s``/``--fromSavepoint``, ``-n``/``--allowNonRestoredState``
==================  =====================================================================

Flink 2 dropped the ``--host``/``--webui-port`` options (and the script's positional
``<host> [<webui-port>]`` that fed them); such tokens end the options here as in Flink.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, get_args

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Sequence

__all__ = [
    "EntrypointArgs",
    "ROLES",
    "Role",
    "parse_entrypoint_args",
]

Role = Literal["jobmanager", "taskmanager", "standalone-job"]
ROLES: tuple[Role, ...] = get_args(Role)

# long name -> (short name, takes a value); --jars takes every value up to the next option
_STANDALONE_JOB_OPTIONS: dict[str, tuple[str, bool]] = {
    "job-classname": ("j", True),
    "job-id": ("jid", True),
    "jars": ("", True),
    "fromSavepoint": ("s", True),
    "allowNonRestoredState": ("n", False),
}
_CONFIG_DIR = ("configDir", "c")


def _option_table(role: Role) -> dict[str, tuple[str, bool]]:
    """Every spelling (``--long``, ``-short``) -> (long name, takes a value)."""
    options = dict(_STANDALONE_JOB_OPTIONS) if role == "standalone-job" else {}
    options[_CONFIG_DIR[0]] = (_CONFIG_DIR[1], True)
    table: dict[str, tuple[str, bool]] = {}
    for long_name, (short, has_value) in options.items():
        table[f"--{long_name}"] = (long_name, has_value)
        if short:
            table[f"-{short}"] = (long_name, has_value)
    return table


@dataclass(frozen=True)
class EntrypointArgs:
    """A pod's arguments split into what Flink's entrypoint makes of them.

    :param role: the image command: ``jobmanager``, ``taskmanager`` or ``standalone-job``.
    :param options: recognised options other than ``-D`` and ``--configDir``, as
        ``(long name, value)`` in order (``value`` is ``None`` for flags; ``--jars``
        appears once per jar).
    :param dynamic_properties: the ``-D key=value`` pairs, in order (a later key wins).
    :param config_dir: a ``--configDir`` given in the pod (the process writes its own).
    :param rest: what follows the options: the job's arguments for ``standalone-job``.
    """

    role: Role
    options: tuple[tuple[str, str | None], ...] = ()
    dynamic_properties: tuple[tuple[str, str], ...] = ()
    config_dir: str | None = None
    rest: tuple[str, ...] = ()

    def option(self, name: str) -> str | None:
        """The last value of an option (``"true"`` for a flag), or ``None``."""
        values = [
            value if value is not None else "true" for key, value in self.options if key == name
        ]
        return values[-1] if values else None

    @property
    def job_classname(self) -> str | None:
        return self.option("job-classname")

    @property
    def from_savepoint(self) -> str | None:
        return self.option("fromSavepoint")

    @property
    def allow_non_restored_state(self) -> bool:
        return self.option("allowNonRestoredState") is not None

    def properties(self) -> dict[str, str]:
        """The dynamic properties as a dict (later keys win, as in Flink)."""
        return dict(self.dynamic_properties)

    def to_args(self) -> list[str]:
        """The arguments after the role, without ``--configDir``: options, then each
        property as ``-D key=value``, then ``--`` and the rest (if any)."""
        args: list[str] = []
        for name, value in self.options:
            args.append(f"--{name}")
            if value is not None:
                args.append(value)
        for key, value in self.dynamic_properties:
            args += ["-D", f"{key}={value}"]
        return [*args, "--", *self.rest] if self.rest else args

    def replace_values(
        self, transform: Callable[[str], str], *, drop_keys: Collection[str] = ()
    ) -> EntrypointArgs:
        """Apply ``transform`` to every value (options, properties, rest) and leave out the
        properties whose key is in ``drop_keys``."""
        return EntrypointArgs(
            role=self.role,
            options=tuple(
                (name, None if value is None else transform(value)) for name, value in self.options
            ),
            dynamic_properties=tuple(
                (key, transform(value))
                for key, value in self.dynamic_properties
                if key not in drop_keys
            ),
            config_dir=self.config_dir,
            rest=tuple(transform(token) for token in self.rest),
        )


def _split_property(text: str) -> tuple[str, str]:
    """``key=value``; a bare ``key`` is ``true`` (commons-cli's option properties)."""
    key, sep, value = text.partition("=")
    return key, value if sep else "true"


def parse_entrypoint_args(args: Sequence[str]) -> EntrypointArgs:
    """Split a Flink container's ``args`` as the image's scripts and entrypoint do.

    :param args: the container's arguments, role first, e.g.
        ``["standalone-job", "--job-classname", "C", "--", "--script", "x.sql"]``.
    :raises ValueError: when the role is not one of :data:`ROLES`, or an option lacks its
        value.
    :return: the role, options, dynamic properties and leftover arguments.
    """
    if not args or args[0] not in ROLES:
        got = repr(args[0]) if args else "no arguments"
        raise ValueError(f"a Flink container's first argument must be one of {ROLES}, got {got}")
    role: Role = args[0]
    table = _option_table(role)
    options: list[tuple[str, str | None]] = []
    properties: list[tuple[str, str]] = []
    config_dir: str | None = None
    tokens = list(args[1:])
    pos = 0
    while pos < len(tokens):
        token = tokens[pos]
        if token == "--":
            pos += 1
            break
        if token == "-D" or (token.startswith("-D") and len(token) > 2):
            if token == "-D":
                if pos + 1 >= len(tokens):
                    raise ValueError("-D needs a key=value argument")
                pos += 1
                token = "-D" + tokens[pos]
            properties.append(_split_property(token[2:]))
            pos += 1
            continue
        name, sep, inline = token.partition("=") if token.startswith("--") else (token, "", "")
        if name not in table:
            break  # an unknown token ends the options (stopAtNonOption)
        long_name, has_value = table[name]
        pos += 1
        values: list[str | None] = [None]
        if has_value:
            if sep:
                values = [inline]
            elif pos < len(tokens) and tokens[pos] != "--":
                values = [tokens[pos]]
                pos += 1
                while long_name == "jars" and pos < len(tokens) and not tokens[pos].startswith("-"):
                    values.append(tokens[pos])
                    pos += 1
            else:
                raise ValueError(f"{name} needs a value")
        if long_name == _CONFIG_DIR[0]:
            config_dir = values[-1]
        else:
            options += [(long_name, value) for value in values]
    return EntrypointArgs(
        role=role,
        options=tuple(options),
        dynamic_properties=tuple(properties),
        config_dir=config_dir,
        rest=tuple(tokens[pos:]),
    )
