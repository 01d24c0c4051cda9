import schemathesis
import test_schemathesis as ts

_orig = schemathesis.openapi.from_asgi


def _only_mine(*a, **k):
    return _orig(*a, **k).include(path_regex=r"^/api/v1/supervision/(credit|complaints|dashboard)")


schemathesis.openapi.from_asgi = _only_mine
ts.MAX_EXAMPLES = 30
seeded = ts.seeded
caller = ts.caller


def test_mine(app, seeded):  # type: ignore[no-untyped-def]
    failures: list[str] = []
    ops, reqs = ts._run(app, seeded, failures)
    print(ops, reqs)
    assert ops >= 15
    assert failures == [], "\n".join(sorted(set(failures)))
