"""python -m tests.lab up|down|status [--dir DIR]: the lab by hand."""

from __future__ import annotations

import argparse
import fcntl
import sys
from pathlib import Path

from tests.lab.conftest import LOCK
from tests.lab.lab import DEFAULT_ROOT, Lab, down, namespaces, unavailable


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.lab")
    parser.add_argument("command", choices=("up", "down", "status"))
    parser.add_argument("--dir", type=Path, default=DEFAULT_ROOT, help=f"lab directory (default {DEFAULT_ROOT})")
    args = parser.parse_args(argv)
    if args.command == "status":
        print("\n".join(namespaces()) or "the lab is down")
        return 0
    reason = unavailable()
    if reason:
        print(f"lab: {reason}", file=sys.stderr)
        return 2
    # A suite holding the lab (tests/lab/conftest.py) would have its hosts torn out or rebuilt under it.
    with open(LOCK, "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"lab: a test run holds the lab ({LOCK}); try again when it ends", file=sys.stderr)
            return 2
        return _by_hand(args.command, args.dir)


def _by_hand(command: str, root: Path) -> int:
    if command == "down":
        down()
        print("lab: down")
        return 0
    lab = Lab(root.resolve())
    try:
        lab.up()
    except BaseException:
        down()
        raise
    print(f"lab: {sum(h.kind == 'ssh' for h in lab.hosts)} SSH hosts up; inventory {lab.inventory}\n"
          f"try:  drift compare staging prod -i {lab.inventory}\n"
          f"      drift audit prod -i {lab.inventory}\n"
          "then:  python -m tests.lab down")
    return 0


if __name__ == "__main__":
    sys.exit(main())
