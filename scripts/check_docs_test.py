#!/usr/bin/env python3
"""Tests of scripts/check_docs.py (ctest: DocsCheckerSelfTest): the key extraction on the
shapes config/gateway.yaml uses, and that drift in either direction is reported by name."""
import contextlib
import importlib.util
import io
import tempfile
import unittest
from pathlib import Path

spec = importlib.util.spec_from_file_location("check_docs", Path(__file__).with_name("check_docs.py"))
cd = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cd)

YAML = """# header prose
#   durations: 250ms (a header line that looks like a key is ignored)
listen:
  address: 127.0.0.1:8080        # default 0.0.0.0:8080
  # tls:                         # optional
  #   cert_file: /c.pem
issuers:
  - name: a
    url: http://x                # http:// or https://, never a key
    # jwks_uri: https://x/keys   (instead of discovery)
    # secret_env: VAR            # or secret_file: PATH
routes:
  - name: r
    match:
      path: {prefix: /orders}
    require:
      claims:
        email_verified: true
    forward:
      headers: {X-User-Id: sub}
# sessions:
#   client:
#     issuer: a
"""

LOADER = """
r.expect_map(n, "", {"listen", "issuers", "routes", "sessions"});
r.expect_map(n, "listen", {"address", "tls"});
r.expect_map(n, "listen.tls", {"cert_file", "key_file"});
r.expect_map(n, path, {"name", "url", "jwks_uri", "secret_env", "secret_file"});
r.expect_map(n, path, {"name", "match", "require", "forward"});
r.expect_map(n, path, {"path"}); r.expect_map(n, path, {"exact", "prefix", "regex"});
r.expect_map(n, path, {"claims", "scopes_all"}); r.expect_map(n, path, {"headers"});
r.expect_map(n, path, {"client"}); r.expect_map(n, path, {"issuer"});
"""


def readme(keys):
    rows = "".join(f"| `{k}` | d | m |\n" for k in keys)
    return f"x\n<!-- config-reference:begin -->\n| key | default | meaning |\n|---|---|---|\n{rows}<!-- config-reference:end -->\n"


class Extraction(unittest.TestCase):
    def test_every_shape(self):
        self.assertEqual(sorted(cd.yaml_key_paths(YAML)), sorted([
            "listen", "listen.address", "listen.tls", "listen.tls.cert_file",
            "issuers", "issuers[].name", "issuers[].url", "issuers[].jwks_uri",
            "issuers[].secret_env", "issuers[].secret_file",
            "routes", "routes[].name", "routes[].match", "routes[].match.path",
            "routes[].match.path.prefix", "routes[].require", "routes[].require.claims",
            "routes[].forward", "routes[].forward.headers",
            "sessions", "sessions.client", "sessions.client.issuer"]))

    def test_loader_names(self):
        self.assertIn("key_file", cd.loader_key_names(LOADER))
        self.assertIn("regex", cd.loader_key_names(LOADER))


class Drift(unittest.TestCase):
    def run_check(self, readme_keys, yaml=YAML):
        with tempfile.TemporaryDirectory() as d:
            (Path(d) / "g.yaml").write_text(yaml)
            (Path(d) / "R.md").write_text(readme(readme_keys))
            (Path(d) / "l.cpp").write_text(LOADER)
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                rc = cd.check_config(Path(d) / "g.yaml", Path(d) / "R.md", Path(d) / "l.cpp")
            return rc, out.getvalue()

    def keys(self):
        return sorted(cd.yaml_key_paths(YAML))

    def test_in_sync_passes_apart_from_undocumented_loader_names(self):
        rc, out = self.run_check(self.keys())
        # key_file, exact, regex, scopes_all are accepted by the loader but not in YAML.
        self.assertEqual(rc, 1)
        self.assertIn("key_file: the loader", out)
        self.assertNotIn("missing from the README", out)

    def test_key_missing_from_readme_is_named(self):
        rc, out = self.run_check([k for k in self.keys() if k != "issuers[].secret_file"])
        self.assertEqual(rc, 1)
        self.assertIn("issuers[].secret_file", out)
        self.assertIn("missing from the README config reference table", out)

    def test_row_not_in_yaml_is_named(self):
        rc, out = self.run_check(self.keys() + ["limits.max_nothing"])
        self.assertIn("limits.max_nothing (README:", out)
        self.assertIn("is not in", out)

    def test_key_the_loader_does_not_know_is_named(self):
        rc, out = self.run_check(self.keys() + ["listen.bogus"], YAML + "listen:\n  bogus: 1\n")
        self.assertIn("listen.bogus", out)
        self.assertIn("accepts no key named bogus", out)


class Metrics(unittest.TestCase):
    def test_name_and_type_drift(self):
        src = 'BuildCounter().Name("authgate_a_total") BuildGauge()\n .Name("authgate_b")'
        table = ("<!-- metrics-reference:begin -->\n| `authgate_a_total` | counter | | x |\n"
                 "| `authgate_b` | counter | | x |\n| `authgate_c` | gauge | | x |\n<!-- metrics-reference:end -->\n")
        with tempfile.TemporaryDirectory() as d:
            (Path(d) / "m.cpp").write_text(src)
            (Path(d) / "R.md").write_text(table)
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                rc = cd.check_metrics(Path(d) / "m.cpp", Path(d) / "R.md")
        self.assertEqual(rc, 1)
        self.assertIn("authgate_b (README:3): type 'counter'", out.getvalue())
        self.assertIn("authgate_c (README:4) is not registered", out.getvalue())
        self.assertNotIn("authgate_a_total", out.getvalue())


if __name__ == "__main__":
    unittest.main()
