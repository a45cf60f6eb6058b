"""python -m tests.lab up|down|status [--dir DIR]: the lab by hand."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

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
    if args.command == "down":
        down()
        print("lab: down")
        return 0
    lab = Lab(args.dir.resolve())
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
