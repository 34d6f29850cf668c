"""Quirks of real datasets that a loader handled rather than refused, counted for the user.

Real archives are not clean (``docs/data.md``): IDNet has gaps and the
same walk filed under two users, CASIA-B has incomplete subjects, OU-ISIR has walks
shorter than one sample. A loader records each quirk it handles here (what, how many,
an example path); ``gaitbnn data`` lists them, training stores them in ``config.json``
and prints one warning line per kind.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import TextIO

    from gaitbnn.data.problems import Problem, Problems

EXAMPLES_KEPT = 12  # examples listed per kind (the count is always complete)


@dataclass
class Problem:
    kind: str  # short stable key, e.g. "gap_split"
    message: str  # what was done, for people
    count: int = 0
    examples: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"kind": self.kind, "count": self.count, "message": self.message,
                "example": self.examples[0] if self.examples else None, "examples": list(self.examples)}

    def line(self) -> str:
        more = f" (+{self.count - len(self.examples)} more)" if self.count > len(self.examples) else ""
        listed = ", ".join(self.examples)
        return f"{self.message}: {self.count} ({listed}{more})" if listed else f"{self.message}: {self.count}"


class Problems:
    """An ordered set of ``Problem`` kinds; ``add`` counts one occurrence (or ``count``) with an example."""

    def __init__(self) -> None:
        self._items: dict[str, Problem] = {}

    def add(self, kind: str, message: str, example: str = "", count: int = 1) -> None:
        item = self._items.setdefault(kind, Problem(kind, message))
        item.count += count
        if example and len(item.examples) < EXAMPLES_KEPT and example not in item.examples:
            item.examples.append(str(example))

    def extend(self, other: Problems) -> None:
        """Add every kind of ``other`` (counts added, examples kept up to ``EXAMPLES_KEPT``)."""
        for item in other:
            for example in item.examples or [""]:
                self.add(item.kind, item.message, example, count=0)
            self._items[item.kind].count += item.count

    def __bool__(self) -> bool:
        return bool(self._items)

    def __iter__(self):
        return iter(self._items.values())

    def get(self, kind: str) -> Problem | None:
        return self._items.get(kind)

    def as_list(self) -> list[dict]:
        return [p.as_dict() for p in self]

    @classmethod
    def from_list(cls, items: list | None) -> Problems:
        out = cls()
        for item in items or []:
            out._items[item["kind"]] = Problem(item["kind"], item["message"], int(item["count"]),
                                               list(item.get("examples") or []))
        return out

    def warn(self, stream: TextIO | None = None) -> None:
        """One ``warning:`` line per kind on stderr."""
        for item in self:
            print(f"warning: {item.line()}", file=stream or sys.stderr, flush=True)


def collector(problems: Problems | None) -> Problems:
    """``problems`` itself, or a fresh collector when the caller keeps none."""
    return problems if problems is not None else Problems()
