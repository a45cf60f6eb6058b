from drift.model import outliers
from drift.model.report import Finding, Kind, Level, Report, Side, Value


def outlier(subject: str, hosts: tuple[str, ...]) -> Finding:
    return Finding("packages", f"packages/deb/{subject}", subject, Kind.outlier, "web", f"{subject} is odd",
                   tuple(Value("prod", h, "2") for h in hosts), odd=hosts)


def report(findings) -> Report:
    return Report("compare", "2026-11-22T03:00:00Z", Side("a", ()), Side("b", ()), tuple(findings), (), Level.high)


def test_few_outliers_need_no_summary():
    assert outliers.lines(report([outlier("a", ("h1",))])) == []


def test_a_thousand_hosts_each_odd_on_its_own_package_read_as_counts_first():
    findings = [outlier(f"pkg{i}", (f"h{i:04d}",)) for i in range(1000)]
    findings.append(outlier("openssl", tuple(f"h{i:04d}" for i in range(300))))
    lines = outliers.lines(report(findings))
    assert lines[0] == "outliers: 1001 findings, 1000 hosts odd on 1001 subjects"
    assert "300  openssl (web): h0000, h0001, h0002, h0003, h0004, +295 more" in lines[2]
    assert any("... 991 more, at most 1 host each" in line for line in lines)
    by_host = lines[lines.index("  by host (odd subjects):") + 1]
    assert by_host.split()[0] == "2" and "h0000" in by_host  # a host odd on two subjects comes first
    assert len(lines) < 30


def test_odd_hosts_are_never_guessed_from_the_values():
    """The values list the majority's hosts too: only analysis knows which hosts are odd."""
    f = Finding("packages", "p", "p", Kind.outlier, "web", "m", (Value("prod", "b", 1), Value("prod", "a", 2)))
    assert outliers.odd_hosts(f) == ()
    assert outliers.odd_hosts(Finding("packages", "p", "p", Kind.outlier, "web", "m", f.values, odd=("a",))) == ("a",)
