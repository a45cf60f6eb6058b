"""The `drift` command: the top layer, which may import every other package. Exceptions become
exit codes here, and only here."""

from __future__ import annotations

import contextlib
import sys
from typing import Any

import typer

from drift.cli.app import app
from drift.cli.environment import Environment
from drift.cli.help import tidy
from drift.core.errors import DriftError, ExitStatus, InputError

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
        exc.show(file=env.stderr)
        return ExitStatus.BAD_INPUT
    except (typer.Abort, KeyboardInterrupt):
        print("drift: interrupted", file=env.stderr)
        return 130
    except InputError as exc:
        print(f"drift: error: {exc}", file=env.stderr)
        return ExitStatus.BAD_INPUT
    except DriftError as exc:
        # Anything else we raise on purpose means parity could not be established.
        print(f"drift: {exc}", file=env.stderr)
        return ExitStatus.INCOMPLETE
    except Exception as exc:  # a bug of ours: say so plainly, never claim parity
        if env.vars.get("DRIFT_DEBUG"):
            raise
        print(f"drift: internal error: {type(exc).__name__}: {exc} (set DRIFT_DEBUG=1 for the traceback; "
              "please report it)", file=env.stderr)
        return ExitStatus.INCOMPLETE
    if isinstance(result, int):
        return result
    return ExitStatus.OK


def entry() -> None:  # pragma: no cover - the console script
    sys.exit(main())
