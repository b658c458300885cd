from typing import Any, List
def add_parser(sub: Any, parents: List[Any]) -> None:
    p = sub.add_parser("diff", parents=parents)
