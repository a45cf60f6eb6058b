"""The flat-record fast path of `explain` says exactly what the deepdiff path says."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drift.analysis import messages

scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text(max_size=4))
keys = st.lists(st.sampled_from(["version", "arch", "size", "mode", "a b", "é"]), unique=True, min_size=1)


@settings(deadline=None)
@given(keys.flatmap(lambda ks: st.tuples(st.fixed_dictionaries({k: scalars for k in ks}),
                                         st.fixed_dictionaries({k: scalars for k in ks}))))
def test_fast_path_matches_deepdiff(pair):
    old, new = pair
    assert messages._flat_record(old) and messages._flat_record(new)
    fast = messages.explain("packages/deb/x", old, new)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(messages, "_flat_record", lambda value: False)
        slow = messages.explain("packages/deb/x", old, new)
    assert fast == slow


def test_nested_values_still_go_through_deepdiff():
    assert not messages._flat_record({"rules": ["-j ACCEPT"]})
    assert "rules" in messages.explain("firewall/x", {"rules": ["a"]}, {"rules": ["b"]})
