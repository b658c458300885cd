"""The ``spikevault`` command-line tool (``python -m spikevault``). One module per verb;
shared parsing, rendering, colour and progress helpers beside them."""

from .main import build_parser, entry_point, main

__all__ = ["main", "build_parser", "entry_point"]
