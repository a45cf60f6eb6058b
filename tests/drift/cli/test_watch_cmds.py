from __future__ import annotations

import datetime as dt
import io

from drift.cli import main
from drift.cli.environment import Environment
from drift.store.sqlite import Store
from tests.drift.cli.conftest import FakeSSH

INVENTORY = """\
[collect]
sysctl = ["net.ipv4.ip_forward"]
files = []

[environments.prod]
hosts = [{ name = "prd-web-1", address = "127.0.0.1", role = "web" }]
"""


class Clock:
    """A fake clock: sleeping moves time on; `interrupt_at` makes the Nth sleep a Ctrl-C."""

    def __init__(self, interrupt_at: int = 0):
        self.t = dt.datetime(2026, 11, 20, 3, 0, tzinfo=dt.timezone.utc)
        self.sleeps: list[float] = []
        self.interrupt_at = interrupt_at

    def now(self) -> dt.datetime:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if len(self.sleeps) == self.interrupt_at:
            raise KeyboardInterrupt
        self.t += dt.timedelta(seconds=seconds)


def watch(tmp_path, *args: str, clock: Clock, **env_vars: str):
    (tmp_path / "drift.toml").write_text(INVENTORY)
    out, err = io.StringIO(), io.StringIO()
    env = Environment(stdout=out, stderr=err, vars={"HOME": str(tmp_path), "CI": "1", **env_vars}, cwd=tmp_path,
                      ssh_connector=FakeSSH, now=clock.now, sleep=clock.sleep, stderr_isatty=False)
    code = main(["watch", "prod", *args], env)
    return code, out.getvalue(), err.getvalue()


def stored(tmp_path) -> list[str]:
    with Store.open(tmp_path / ".drift" / "drift.db") as store:
        return [s.collected_at for s in store.snapshots("prod", "prd-web-1")]


def test_watch_is_bounded_by_for_and_quiet_in_ci_when_nothing_changes(tmp_path):
    clock = Clock()
    code, out, err = watch(tmp_path, "--every", "5m", "--for", "12m", "--category", "system", clock=clock)
    assert code == 0, err
    assert clock.sleeps == [300.0, 300.0]  # rounds at 03:00, 03:05, 03:10; 03:15 is past the 12 minutes
    assert len(stored(tmp_path)) == 3
    assert out == "" and err.strip() == "drift: watch finished after 3 rounds"


def test_watch_rounds_and_a_clean_ctrl_c(tmp_path):
    code, _, err = watch(tmp_path, "--every", "30s", "--rounds", "2", clock=Clock())
    assert code == 0 and "after 2 rounds" in err
    code, _, err = watch(tmp_path, "--every", "30s", clock=Clock(interrupt_at=2))
    assert code == 0 and "watch stopped after 2 rounds" in err and "Traceback" not in err
    assert len(stored(tmp_path)) == 4


def test_watch_bad_interval_is_exit_2(tmp_path):
    code, _, err = watch(tmp_path, "--every", "often", clock=Clock())
    assert code == 2 and "--every 'often'" in err


def test_a_round_line_says_which_hosts_changed_what():
    from drift.cli.watch_cmds import _round_line
    from tests.drift.analysis import incident_fixtures as fx

    two, three = fx.history("web-1")[0], fx.history("web-1")[1]
    line, eventful = _round_line(4, [three], {"web-1": two}, Clock().now())
    assert eventful and line == "03:00:00 round 4: 1 hosts; changed: web-1 (files 1, packages 2)"
    line, eventful = _round_line(5, [three], {"web-1": three}, Clock().now())
    assert not eventful and line.endswith("nothing changed")
