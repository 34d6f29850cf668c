"""The one exception type the CLI turns into a single line and a non-zero exit."""


class InputError(Exception):
    """Bad user input: the message says what, where, and what to do."""


def lookup(table: dict, name: str, kind: str, hint: str = "") -> object:
    """``table[name]``, or an InputError naming the ``kind`` and every choice (the registries' one lookup)."""
    try:
        return table[name]
    except KeyError:
        raise InputError(f"unknown {kind} '{name}': choose one of {', '.join(table)}{hint}") from None
