"""Reading a user-named JSON file with one-line errors instead of tracebacks."""
from __future__ import annotations

import json

from .errors import SimgenError


def read_json(path: str, not_found: str, unreadable: str) -> object:
    """json.load(path); a missing file raises `not_found`, any other failure
    `"{unreadable}: {reason}"`, both as SimgenError."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise SimgenError(not_found) from None
    except (OSError, ValueError) as exc:
        raise SimgenError(f"{unreadable}: {exc}") from None
