"""What `--help` shows: plain metavars (FILE, N, ENV) instead of Click's `<list[str]>`, and for each
command a few examples and its exit codes. Applied once to the built command tree, so commands added
later get the same treatment without repeating it in every signature."""

from __future__ import annotations

from typing import Any

# option or argument name -> metavar; anything else gets its name in capitals.
_METAVARS = {
    "inventory": "FILE", "output": "FILE", "out_dir": "DIR", "baseline": "FILE", "category": "NAME",
    "jobs": "N", "timeout": "SECONDS", "since": "WHEN", "until": "WHEN", "host": "HOST", "env": "ENV",
    "targets": "TARGET", "left": "LEFT", "right": "RIGHT", "from_ansible": "FILE", "top": "N",
    "span": "DURATION", "every": "DURATION", "for_": "DURATION", "rounds": "N",
}

GATE = ("Exit codes: 0 every host collected, nothing blocking; 1 blocking drift (at or above --fail-on); "
        "2 bad input (the message names the file and line); 3 a host or collector could not be "
        "collected, so parity is not proven; 4 an internal error.")
LISTING = ("Exit codes: 0 done; 2 bad input (the message names the file and line); 3 a host could not "
           "be collected or reached; 4 an internal error.")

EXAMPLES: dict[str, tuple[tuple[str, ...], str]] = {
    "snapshot": (("drift snapshot local -o out/", "drift snapshot prod -o out/prod/",
                  "drift snapshot prod:web prd-db-1 --format json"), LISTING),
    "compare": (("drift compare staging prod", "drift compare prod:web prd-web-3",
                 "drift compare examples/staging examples/prod",
                 "drift compare staging prod --format junit -o drift.xml --fail-on high"), GATE),
    "audit": (("drift audit prod", "drift audit prod --baseline baselines/prod.json --format html -o prod.html"),
              GATE),
    "inventory": (("drift inventory", "drift inventory --check", "drift inventory -i hosts.ini"), LISTING),
    "collectors": (("drift collectors", "drift collectors --format json"), LISTING),
    "history": (("drift history prod", "drift history prod --since 24h --host prd-web-1"),
                "Exit codes: 0 done; 2 bad input (an unknown environment or host, a bad --since); "
                "4 an internal error."),
    "save": (("drift baseline save prod", "drift baseline save prod -o baselines/prod.json"), LISTING),
    "show": (("drift baseline show prod",), LISTING),
    "changes": (("drift changes prod", "drift changes prod --since 2h --host prd-web-1",
                 "drift changes prod --since 2026-11-22T02:00 --until 2026-11-22T04:00 --format html -o changes.html"),
                "Exit codes: 0 done; 2 bad input (an unknown environment or host, a bad window); "
                "4 an internal error."),
    "explain": (("drift explain prd-web-3", "drift explain prd-web-3 --source store --format json"), LISTING),
    "why": (("drift why prd-web-3",), LISTING),
    "watch": (("drift watch prod --every 5m --for 8h", "drift watch prod:web --every 30s --rounds 10"),
              "Exit codes: 0 stopped at --rounds, --for or Ctrl-C; 2 bad input; 3 a host could not be "
              "collected in some round; 4 an internal error."),
    "init": (("drift init", "drift init --from-ansible hosts.ini", "drift init --from-ssh-config --force"),
             "Exit codes: 0 written; 2 bad input, or drift.toml exists (use --force); 4 an internal error."),
}


ROOT = ("Start here, in a checkout of drift (no root, no SSH needed):\n\n"
        "\b\n  drift compare examples/staging examples/prod\n\n"
        "Examples:\n\n\b\n  drift init --from-ansible hosts.ini\n  drift inventory --check\n"
        "  drift compare staging prod\n  drift audit prod --format html -o prod.html\n\n" + GATE)


def tidy(command: Any) -> Any:
    """Set metavars and epilogs on a Click command tree (in place), and return it."""
    if not getattr(command, "epilog", None):
        command.epilog = ROOT
    stack = [command]
    while stack:
        cmd = stack.pop()
        stack.extend(getattr(cmd, "commands", {}).values())
        for param in getattr(cmd, "params", ()):
            if getattr(param, "is_flag", False) or getattr(param, "metavar", None) is not None or _is_choice(param):
                continue
            name = param.name or ""
            param.metavar = _METAVARS.get(name, name.upper())
            if param.param_type_name == "argument":
                # The name says it; Typer would add a Python type such as <list[str]> beside it.
                param.display_type_rich = lambda ctx: None
        if getattr(cmd, "help", None) and not getattr(cmd, "short_help", None):
            # Click cuts a summary at 45 characters with "..."; the first sentence, whole, wraps instead.
            cmd.short_help = cmd.help.strip().split("\n\n")[0].replace("\n", " ").split(". ")[0].rstrip(".")
        if cmd.name in EXAMPLES and not getattr(cmd, "epilog", None):
            examples, codes = EXAMPLES[cmd.name]
            cmd.epilog = "Examples:\n\n\b\n" + "\n".join(f"  {e}" for e in examples) + "\n\n" + codes
    return command


def _is_choice(param: Any) -> bool:
    descriptor = getattr(param, "type_descriptor", None)  # Typer's own parameters
    return bool(getattr(descriptor, "is_choice", False)) or hasattr(getattr(param, "type", None), "choices")
