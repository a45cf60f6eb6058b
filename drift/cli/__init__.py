"""The `drift` command: the top layer, which may import every other package. Exceptions become
exit codes here, and only here."""

from __future__ import annotations

import contextlib
import difflib
import os
import re
import sys
import traceback
from typing import Any

import typer

from drift.cli.app import app
from drift.cli.environment import Environment
from drift.cli.help import tidy
from drift.core.errors import DriftError, ExitStatus, InputError, Interrupted
from drift.core.sanitize import clip

# Recent Typer vendors its own Click, older Typer uses the click package: find the class Typer uses.
ClickException: Any = next(k for k in typer.BadParameter.__mro__ if k.__name__ == "ClickException")

# Registers the commands on `app`.
from drift.cli import (  # noqa: F401, E402
    audit_cmds,
    collect_cmds,
    compare_cmds,
    engine_cmds,
    incident_cmds,
    init_cmds,
    reach_cmds,
    watch_cmds,
)


def main(argv: list[str] | None = None, env: Environment | None = None) -> int:
    env = env or Environment()
    args = sys.argv[1:] if argv is None else argv
    try:
        command = tidy(typer.main.get_command(app))
        with contextlib.redirect_stdout(env.stdout):  # Click prints --help on sys.stdout
            result = command.main(args=args, prog_name="drift", standalone_mode=False, obj=env)
    except typer.Exit as exc:
        return exc.exit_code
    except ClickException as exc:
        exc.message = suggest(exc.message)
        exc.show(file=env.stderr)
        return ExitStatus.BAD_INPUT
    except Interrupted as stop:
        print(f"drift: {interrupted(stop)}", file=env.stderr)
        return ExitStatus.INTERRUPTED
    except (typer.Abort, KeyboardInterrupt):
        print("drift: interrupted", file=env.stderr)
        return ExitStatus.INTERRUPTED
    except InputError as exc:
        print(f"drift: error: {clip(str(exc))}", file=env.stderr)
        return ExitStatus.BAD_INPUT
    except DriftError as exc:
        # Anything else we raise on purpose means parity could not be established.
        print(f"drift: {clip(str(exc))}", file=env.stderr)
        return ExitStatus.INCOMPLETE
    except Exception as exc:  # a bug of ours: its own exit code, so no gate reads it as drift or a host down
        return _bug(exc, env, args)
    if result == ExitStatus.INTERRUPTED:  # Typer's answer to a Ctrl-C outside collection
        print("drift: interrupted", file=env.stderr)
    if isinstance(result, int):
        return result
    return ExitStatus.OK


_NOT_ONE_OF = re.compile(r"(?:Value error, )?'([^']*)' is not one of ((?:'[^']*'(?:, )?)+)\.?")


def suggest(message: str) -> str:
    """'htm' is not one of 'table', 'json', ... -> ... one of table, json, ...; did you mean html?"""
    m = _NOT_ONE_OF.search(message)
    if m is None:
        return message
    choices = re.findall(r"'([^']*)'", m.group(2))
    close = difflib.get_close_matches(m.group(1), choices, n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]}?" if close else ""
    return message[:m.start()] + f"{m.group(1)!r} is not one of {', '.join(choices)}{hint}" + message[m.end():]


def interrupted(stop: Interrupted) -> str:
    """What Ctrl-C kept (spec/cli.md, exit 130): collected means collected, failed hosts are counted apart."""
    ok = sum(not getattr(s, "failed", True) for s in stop.done)
    failed = len(stop.done) - ok
    kept = "recorded in the store" if stop.recorded and stop.done else "nothing recorded"
    return (f"interrupted: {ok} of {stop.total} hosts collected, {kept}"
            + (f"; {failed} could not be collected" if failed else ""))


def _bug(exc: Exception, env: Environment, args: list[str]) -> int:
    if env.vars.get("DRIFT_DEBUG") or "--verbose" in args or "-v" in args:
        traceback.print_exception(exc, file=env.stderr)
        how = ""
    else:
        how = "; run again with DRIFT_DEBUG=1 or --verbose for the traceback"
    print(f"drift: internal error (a bug in drift, please report it): {type(exc).__name__}: {clip(str(exc))}"
          f"{how}", file=env.stderr)
    return ExitStatus.BUG


def entry() -> None:  # pragma: no cover - the console script
    code = main()
    if code == ExitStatus.INTERRUPTED:
        # Hosts still connecting hold worker threads that the interpreter would join on exit, for
        # up to the connect timeout; what was collected is recorded, so nothing is left to wait for.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)
