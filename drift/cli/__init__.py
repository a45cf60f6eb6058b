"""The `drift` command: the top layer, which may import every other package. Exceptions become
exit codes here, and only here."""

from __future__ import annotations

import contextlib
import sys
import traceback
from typing import Any

import typer

from drift.cli.app import app
from drift.cli.environment import Environment
from drift.cli.help import tidy
from drift.core.errors import DriftError, ExitStatus, InputError
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
    scrub_cmds,
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
        exc.show(file=env.stderr)
        return ExitStatus.BAD_INPUT
    except (typer.Abort, KeyboardInterrupt):
        print("drift: interrupted", file=env.stderr)
        return 130
    except InputError as exc:
        print(f"drift: error: {clip(str(exc))}", file=env.stderr)
        return ExitStatus.BAD_INPUT
    except DriftError as exc:
        # Anything else we raise on purpose means parity could not be established.
        print(f"drift: {clip(str(exc))}", file=env.stderr)
        return ExitStatus.INCOMPLETE
    except Exception as exc:  # a bug of ours: its own exit code, so no gate reads it as drift or a host down
        return _bug(exc, env, args)
    if isinstance(result, int):
        return result
    return ExitStatus.OK


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
    sys.exit(main())
