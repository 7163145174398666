"""libauparse's normalizer, ausearch's csv/text formats and ECS (rust/bindings/normalize.rs)."""

from typing import Any as _Any
from typing import final as _final

@_final
class NormalizedField:
    """One field the normalizer points at."""

    @property
    def name(self) -> str: ...
    @property
    def value(self) -> str:
        """The value as libauparse stores it (``auparse_get_field_str``: quotes kept)."""
    @property
    def interpreted(self) -> str:
        """The value as ``auparse_interpret_field`` gives it."""
    @property
    def record(self) -> int:
        """The record's number in the event (0-based)."""
    @property
    def field(self) -> int:
        """The field's number in its record, in libauparse's numbering (``type``,
        and ``node`` before it when present, are fields 0 and 1)."""
    def to_dict(self) -> dict[str, _Any]:
        """The field as plain values.

        Returns:
            ``{"name", "value", "interpreted", "record", "field"}``.
        """
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@_final
class NormalizedSubject:
    """Who acted."""

    @property
    def primary(self) -> NormalizedField | None:
        """The acting account (usually ``auid``)."""
    @property
    def secondary(self) -> NormalizedField | None:
        """The account it acted as (usually ``uid``)."""
    @property
    def kind(self) -> str | None:
        """``privileged-acct``, ``service-acct``, ``user-acct``, ``unset-acct``,
        ``unknown-acct``, ``system`` or ``auditd``."""
    @property
    def label(self) -> str | None:
        """The ``subj`` attribute's interpretation (the MAC label)."""
    @property
    def attributes(self) -> tuple[NormalizedField, ...]:
        """Further facts about the subject (pid, ids, tty, ...)."""

@_final
class NormalizedObject:
    """What was acted on."""

    @property
    def primary(self) -> NormalizedField | None: ...
    @property
    def secondary(self) -> NormalizedField | None: ...
    @property
    def primary2(self) -> NormalizedField | None:
        """A second object (rename target, new owner, new id, ...)."""
    @property
    def kind(self) -> str:
        """libauparse's object kind (``file``, ``socket``, ..., ``unknown``)."""
    @property
    def label(self) -> str | None:
        """The ``obj`` attribute's interpretation (the MAC label)."""
    @property
    def attributes(self) -> tuple[NormalizedField, ...]: ...

@_final
class NormalizedEvent:
    """An event normalized as libauparse 3.0.9's ``auparse_normalize`` does
    (with attributes). Missing parts are None."""

    @property
    def kind(self) -> str | None:
        """The event kind (``user-login``, ``audit-rule``, ...)."""
    @property
    def session(self) -> NormalizedField | None: ...
    @property
    def subject(self) -> NormalizedSubject: ...
    @property
    def action(self) -> str | None: ...
    @property
    def result(self) -> NormalizedField | None: ...
    @property
    def success(self) -> bool | None:
        """The result as ausearch reads it (``yes``/``success``/seccomp ``allow``)."""
    @property
    def object(self) -> NormalizedObject: ...
    @property
    def how(self) -> str | None: ...
    @property
    def key(self) -> NormalizedField | None:
        """The rule key (``key=(null)`` is no key)."""
    def to_dict(self) -> dict[str, _Any]:
        """All parts as plain Python values.

        Returns:
            A dict of the parts; fields as ``NormalizedField.to_dict()``, missing
            parts None.
        """
    def to_ecs(self) -> dict[str, _Any]:
        """The event as an Elastic Common Schema document.

        Returns:
            The ECS document (docs/normalize.md lists its fields).
        """
    def to_ecs_json(self) -> str:
        """The ECS document as JSON.

        Returns:
            ``to_ecs()`` as one line of JSON (no line end).
        """

@_final
class FormatReader:
    """Reads a log on a second thread and formats its events in Rust."""

    def __new__(
        cls,
        fd: int,
        format: str,
        timeout: float = 2.0,
        chunk_size: int = 1048576,
        extra_keys: bool = False,
        extra_labels: bool = False,
        extra_obj2: bool = False,
        extra_time: bool = False,
        split_login: bool = False,
    ) -> FormatReader:
        """Arguments:
            fd: an open file descriptor (duplicated; the caller keeps its own).
            format: ``"csv"``, ``"text"`` or ``"ecs"``.
            timeout: seconds an event waits for its end-of-event record.
            chunk_size: bytes read at a time.
            extra_keys, extra_labels, extra_obj2, extra_time: ausearch's csv columns.
            split_login: group a LOGIN record as an event of its own (auparse 3.0.9).

        Raises:
            ValueError: an unknown format or a bad timeout.
            OSError: the descriptor cannot be duplicated."""
    def next_lines(self) -> bytes | None:
        """The next formatted lines (possibly empty); None at the end.

        Raises:
            OSError: reading failed."""

def csv_header(
    *,
    extra_keys: bool = False,
    extra_labels: bool = False,
    extra_obj2: bool = False,
    extra_time: bool = False,
) -> str:
    """ausearch's csv header line for these columns.

    Arguments:
        extra_keys, extra_labels, extra_obj2, extra_time: ausearch's optional
            csv columns (``--extra-keys``, ...).

    Returns:
        The header line, with its ``\\n``.

    Raises:
        TypeError: a flag is not a bool.
    """
