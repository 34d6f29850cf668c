"""The one exception type the CLI turns into a single line and a non-zero exit."""


class InputError(Exception):
    """Bad user input: the message says what, where, and what to do."""
