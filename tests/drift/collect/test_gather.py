"""Collection against fakes of our own transport interface (drift.runner), never of Paramiko."""

import subprocess
import threading
import time

from collectors.interface import CollectConfig, Collector
from drift.collect.gather import Plan, collect
from drift.collect.inventory import Host
from drift.collect.runner import ExecResult, HostKey
from drift.core.errors import CollectError, HostTimeout, TransportError


class ShellSession:
    """Runs the composed script with the local /bin/sh, as a host would."""

    host_key = HostKey("ssh-ed25519", "SHA256:fake")

    def __init__(self, log=None):
        self.log = log

    def exec(self, script, deadline):
        if self.log is not None:
            self.log.append(script)
        done = subprocess.run(["/bin/sh", "-s"], input=script, capture_output=True)
        return ExecResult(done.stdout, done.stderr, done.returncode)

    def close(self):
        pass


class FakeConnector:
    def __init__(self, broken=(), slow=0.0):
        self.broken = set(broken)
        self.slow = slow
        self.opened = []
        self.active = 0
        self.peak = 0
        self.lock = threading.Lock()
        self.scripts = []

    def open(self, host, deadline):
        with self.lock:
            self.opened.append(host.name)
            self.active += 1
            self.peak = max(self.peak, self.active)
        try:
            time.sleep(self.slow)
            if host.name in self.broken:
                raise TransportError(f"connection to {host.address}:22 refused")
        finally:
            with self.lock:
                self.active -= 1
        return ShellSession(self.scripts)


def col(name, command, parse=lambda out, cfg: {f"system/{out.strip()}": True}, requires=()):
    return Collector(name, "system", lambda cfg: command, parse, requires)


def hosts(*names, address="10.0.0.1"):
    return [Host(name=n, env="prod", role="web", address=address) for n in names]


def test_one_exec_per_host_and_results_keyed_by_inventory_name():
    conn = FakeConnector()
    plan = Plan((col("a", "echo x"), col("b", "echo y")))
    snaps = collect(hosts("w1", "w2", "w3"), conn, plan)  # same address for all three
    assert [s.host for s in snaps] == ["w1", "w2", "w3"]
    assert len(conn.scripts) == 3
    assert snaps[0].facts() == {"system/x": True, "system/y": True}
    assert snaps[0].host_key == {"type": "ssh-ed25519", "sha256": "SHA256:fake"}


def test_a_failed_host_is_recorded_and_never_stops_the_others():
    snaps = collect(hosts("w1", "w2"), FakeConnector(broken={"w1"}), Plan((col("a", "echo x"),)))
    assert snaps[0].failed and "refused" in snaps[0].error and snaps[0].collectors == {}
    assert not snaps[1].failed and snaps[1].facts() == {"system/x": True}


def boom(out, cfg):
    raise CollectError("line 3: expected 3 fields")


def crash(out, cfg):
    return {}["missing"]


def test_collector_failures_are_recorded_each_on_its_own():
    plan = Plan((
        col("exits", "echo denied >&2; exit 1"),
        col("absent", "echo x", requires=("no-such-tool",)),
        col("bad", "echo x", parse=boom),
        col("buggy", "echo x", parse=crash),
        col("binary", "printf '\\377\\376'"),
        col("fine", "echo ok"),
    ))
    (snap,) = collect(hosts("w1"), FakeConnector(), plan)
    r = snap.collectors
    assert r["exits"].status == "failed" and "exited 1: denied" in r["exits"].error
    assert r["absent"].status == "unsupported"
    assert r["bad"].status == "failed" and "expected 3 fields" in r["bad"].error
    assert r["buggy"].status == "failed" and "parser error" in r["buggy"].error
    assert r["binary"].status == "failed" and "UTF-8" in r["binary"].error
    assert r["fine"].status == "ok" and snap.facts() == {"system/ok": True}
    assert [c for c, _ in snap.errors()] == ["bad", "binary", "buggy", "exits"]


def test_escape_sequences_from_a_host_never_reach_an_error_message():
    (snap,) = collect(hosts("w1"), FakeConnector(), Plan((col("a", "printf '\\033[2Jevil\\n' >&2; exit 2"),)))
    assert "\x1b" not in snap.collectors["a"].error and "evil" in snap.collectors["a"].error


def test_identity_facts_are_marked():
    c = Collector("os", "system", lambda cfg: "echo h", lambda out, cfg: {"system/hostname": "h", "system/arch": "x"},
                  identity=("system/hostname",))
    (snap,) = collect(hosts("w1"), FakeConnector(), Plan((c,)))
    assert snap.collectors["os"].identity == ("system/hostname",)


def test_pool_is_bounded_by_jobs():
    conn = FakeConnector(slow=0.05)
    collect(hosts(*[f"w{i}" for i in range(8)]), conn, Plan((col("a", "echo x"),), jobs=2))
    assert conn.peak == 2 and len(conn.opened) == 8


def test_empty_command_means_nothing_to_collect_not_failure():
    (snap,) = collect(hosts("w1"), FakeConnector(), Plan((col("files", ""),), CollectConfig()))
    assert snap.collectors["files"].status == "ok" and snap.errors() == []


def test_a_timed_out_exec_fails_the_host():
    class Stuck(FakeConnector):
        def open(self, host, deadline):
            class S(ShellSession):
                def exec(self, script, deadline):
                    raise HostTimeout("collection did not finish before the host's deadline")
            return S()

    (snap,) = collect(hosts("w1"), Stuck(), Plan((col("a", "echo x"),), timeout=1))
    assert snap.failed and "deadline" in snap.error and snap.host_key is not None


def test_facts_json_cannot_carry_fail_that_collector_only():
    """NaN or a lone surrogate in facts would fail the snapshot write and the store for the run."""
    plan = Plan((col("nan", "echo x", parse=lambda out, cfg: {"system/x": float("nan")}),
                 col("surrogate", "echo x", parse=lambda out, cfg: {"system/\ud800": 1}),
                 col("fine", "echo ok")))
    (snap,) = collect(hosts("w1"), FakeConnector(), plan)
    assert snap.collectors["nan"].status == "failed" and "cannot be recorded" in snap.collectors["nan"].error
    assert snap.collectors["surrogate"].status == "failed"
    assert snap.collectors["fine"].status == "ok"
    snap.to_json().encode("utf-8")


class BuggyConnector(FakeConnector):
    def open(self, host, deadline):
        if host.name == "w1":
            raise RuntimeError("a bug in our own transport")
        return super().open(host, deadline)


def test_an_unexpected_error_on_one_host_fails_that_host_not_the_run():
    snaps = collect(hosts("w1", "w2"), BuggyConnector(), Plan((col("a", "echo x"),)))
    assert snaps[0].failed and "internal error" in snaps[0].error and "a bug in our own transport" in snaps[0].error
    assert not snaps[1].failed


def test_a_huge_error_message_is_clipped():
    plan = Plan((col("big", "echo x", parse=lambda out, cfg: (_ for _ in ()).throw(CollectError("y" * 1_000_000))),))
    (snap,) = collect(hosts("w1"), FakeConnector(), plan)
    assert len(snap.collectors["big"].error) < 3000


def test_a_privileged_collector_refused_says_permission_denied_and_how_to_grant_it():
    from drift.collect.gather import interpret
    from drift.collect.script import Section

    fw = Collector("iptables", "firewall", lambda cfg: "iptables-save", lambda out, cfg: {}, privileged=True)
    plain = Collector("dpkg", "packages", lambda cfg: "dpkg-query -W", lambda out, cfg: {})
    for stderr in ("sudo: a password is required",
                   "iptables-save v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied "
                   "(you must be root)", "netlink: Error: cache initialization failed: Operation not permitted"):
        result = interpret(fw, Section("iptables", b"", 1, stderr), CollectConfig())
        assert result.status == "failed" and result.error is not None
        assert result.error.startswith("permission denied") and "sudo = true" in result.error
        assert "`iptables-save`" in result.error and stderr in result.error
    other = interpret(plain, Section("dpkg", b"", 1, "Permission denied"), CollectConfig())
    assert other.error == "exited 1: Permission denied"  # only the privileged reads get the sudo advice
    broken = interpret(fw, Section("iptables", b"", 2, "iptables-save: unknown option"), CollectConfig())
    assert broken.error == "exited 2: iptables-save: unknown option"
