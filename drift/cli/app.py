"""The Typer app, the options every command shares, and helpers to reach the inventory."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from drift.cli.environment import Environment
from drift.collect import inventory as inventory_io
from drift.collect.inventory import Inventory
from drift.core.errors import InputError, InventoryError
from drift.core.sanitize import clip, quote
from drift.reports import OutputFormat

app = typer.Typer(
    name="drift",
    help="Agentless environment drift and parity auditor: what differs between staging and prod, "
    "on which hosts, and does it matter. Read-only, over SSH.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(ctx: typer.Context, value: bool) -> None:
    if value:
        from drift import __version__

        env = ctx.obj if isinstance(ctx.obj, Environment) else Environment()
        print(f"drift {__version__}", file=env.stdout)
        raise typer.Exit(0)


@app.callback()
def _root(
    ctx: typer.Context,
    version: Annotated[bool, typer.Option("--version", "-V", help="Print drift's version and exit.", is_eager=True,
                                          callback=_version)] = False,
) -> None:
    pass


class ListFormat(str, enum.Enum):
    """The formats of the listing commands (snapshot, inventory, collectors, history, baseline show)."""

    table = "table"
    json = "json"


class TimelineFormat(str, enum.Enum):
    """The formats of `drift changes` (a timeline has no JUnit form)."""

    table = "table"
    json = "json"
    markdown = "markdown"
    html = "html"


class Severity(str, enum.Enum):
    info = "info"
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"


InventoryOpt = Annotated[Path | None, typer.Option(
    "-i", "--inventory", help="Inventory file (default ./drift.toml, then $DRIFT_INVENTORY).")]
FormatOpt = Annotated[OutputFormat | None, typer.Option("--format", help="Output format (default table).")]
ListFormatOpt = Annotated[ListFormat | None, typer.Option("--format", help="Output format (default table).")]
TimelineFormatOpt = Annotated[TimelineFormat | None, typer.Option("--format", help="Output format (default table).")]
OutputOpt = Annotated[Path | None, typer.Option("-o", "--output", help="Write the report to FILE (atomically).")]
FailOnOpt = Annotated[Severity | None, typer.Option(
    "--fail-on", help="Lowest severity that fails the run (default: the inventory's policy, else high).")]
CategoryOpt = Annotated[list[str] | None, typer.Option(
    "--category", help="Only this category or collector (repeatable).")]
JobsOpt = Annotated[int | None, typer.Option("--jobs", min=1, help="Hosts collected at once.")]
TimeoutOpt = Annotated[float | None, typer.Option(
    "--timeout", min=0.1, help="The most one host may take, connecting included; past it the host is failed.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Only errors on stderr.")]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="More detail on stderr.")]
NoColorOpt = Annotated[bool, typer.Option("--no-color", help="Never colour the output.")]


@dataclass
class Common:
    env: Environment
    inventory_path: Path | None = None
    format: OutputFormat | None = None
    output: Path | None = None
    fail_on: Severity | None = None
    categories: tuple[str, ...] = ()
    jobs: int | None = None
    timeout: float | None = None
    quiet: bool = False
    verbose: bool = False
    no_color: bool = False

    @property
    def fmt(self) -> OutputFormat:
        return self.format or OutputFormat.table

    def say(self, message: str) -> None:
        """A line for a person, on stderr, unless --quiet. Every stderr line passes through clip():
        host names, errors and warnings can come from snapshot files and hosts."""
        if not self.quiet:
            print(clip(message), file=self.env.stderr)

    def debug(self, message: str) -> None:
        if self.verbose and not self.quiet:
            print(clip(message), file=self.env.stderr)

    def inventory(self, required: bool = True) -> Inventory | None:
        if self.inventory_path is not None:
            path = self.inventory_path.expanduser()
            return inventory_io.load(path if path.is_absolute() else self.env.cwd / path, self.env.vars)
        path = inventory_io.default_path(self.env.vars, self.env.cwd)
        if not path.exists():
            if required:
                raise InventoryError("no inventory: create drift.toml or pass -i FILE", path)
            return None
        return inventory_io.load(path, self.env.vars)

    def progress_wanted(self) -> bool:
        return not self.quiet and self.fmt is not OutputFormat.json and self.env.interactive

    def check_categories(self, known: set[str]) -> None:
        for name in self.categories:
            if name not in known:
                raise InputError(f"--category {quote(name)}: unknown (known: {', '.join(sorted(known))})")

    def emit(self, text: str, what: str = "") -> None:
        """The command's result: to -o FILE atomically, else stdout. Written to a file, it is said on
        stderr, with `what` it holds ("19 findings, 14 blocking"): silence reads as nothing written."""
        if self.output is not None:
            from drift.core.atomic import write_atomic

            path = self.output if self.output.is_absolute() else self.env.cwd / self.output
            write_atomic(path, text)
            self.say(f"drift: wrote {self.output}" + (f" ({what})" if what else ""))
        else:
            self.env.stdout.write(text if text.endswith("\n") else text + "\n")
            self.env.stdout.flush()


def common(ctx: typer.Context, **options: object) -> Common:
    env = ctx.obj if isinstance(ctx.obj, Environment) else Environment()
    cats = options.pop("categories", None) or ()
    fmt = options.get("format")
    if isinstance(fmt, (ListFormat, TimelineFormat)):
        options["format"] = OutputFormat(fmt.value)
    return Common(env=env, categories=tuple(cats), **options)  # type: ignore[arg-type]
