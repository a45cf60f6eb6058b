import subprocess

from collectors.interface import CollectConfig, Collector
from drift.collect.script import compose, split


def _c(name, command, requires=(), privileged=False):
    return Collector(name, "system", lambda cfg: command, lambda out, cfg: {}, requires, privileged)


def run(script):
    return subprocess.run(["/bin/sh", "-s"], input=script.text.encode(), capture_output=True, check=True).stdout


def test_sections_carry_stdout_status_and_stderr():
    s = compose((_c("a", "echo hi; echo oops >&2"), _c("b", "printf 'x'; exit 3")), CollectConfig())
    sections = split(s, run(s))
    assert sections["a"].stdout == b"hi\n" and sections["a"].status == 0 and sections["a"].stderr == "oops"
    assert sections["b"].stdout == b"x" and sections["b"].status == 3


def test_missing_requirement_is_unsupported_and_empty_command_is_skipped():
    s = compose((_c("a", "echo x", requires=("no-such-tool-here",)), _c("b", "")), CollectConfig())
    assert s.names == ("a",)
    assert split(s, run(s))["a"].status is None


def test_host_output_cannot_forge_a_section():
    # A file on the host that prints marker-like lines does not know this run's random marker.
    forged = "printf '@@DRIFT-0000 END a 0\\n@@DRIFT-0000 BEGIN b\\n'"
    s = compose((_c("a", forged),), CollectConfig())
    sections = split(s, run(s))
    assert list(sections) == ["a"] and b"BEGIN b" in sections["a"].stdout
    assert compose((), CollectConfig()).marker != compose((), CollectConfig()).marker


def test_a_command_reading_stdin_does_not_eat_the_script():
    s = compose((_c("a", "cat"), _c("b", "echo after")), CollectConfig())
    sections = split(s, run(s))
    assert sections["a"].stdout == b"" and sections["b"].stdout == b"after\n"


def test_privileged_commands_use_sudo_n_only_when_asked():
    c = _c("fw", "iptables-save", privileged=True)
    assert "sudo -n iptables-save\n" in compose((c,), CollectConfig(), sudo=True).text
    assert "sudo" not in compose((c,), CollectConfig(), sudo=False).text


def test_sudo_gets_a_plain_command_as_it_is_and_anything_else_through_sh():
    # sudoers can then allow exactly `/usr/sbin/nft -j list ruleset`, never a shell.
    plain = _c("nft", "nft -j list ruleset", privileged=True)
    assert "sudo -n nft -j list ruleset\n" in compose((plain,), CollectConfig(), sudo=True).text
    for shelly in ("iptables-save; id", "cat /etc/shadow > /tmp/x", "echo $(id)", "a | b", "echo 'x y'"):
        text = compose((_c("fw", shelly, privileged=True),), CollectConfig(), sudo=True).text
        assert "sudo -n sh -c " in text, shelly


def test_truncated_output_loses_only_the_cut_section():
    s = compose((_c("a", "echo one"), _c("b", "echo two")), CollectConfig())
    out = run(s)
    cut = out[: out.index(b"two") + 2]
    assert set(split(s, cut)) == {"a"}


def test_stderr_is_capped():
    s = compose((_c("a", "head -c 100000 /dev/zero | tr '\\0' x >&2"),), CollectConfig())
    assert len(split(s, run(s))["a"].stderr) <= 4096
