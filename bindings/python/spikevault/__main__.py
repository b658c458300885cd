"""``python -m spikevault``: the command-line tool."""

from .cli.main import entry_point

if __name__ == "__main__":
    entry_point()
