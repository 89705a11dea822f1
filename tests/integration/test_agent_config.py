# SPDX-License-Identifier: MIT
"""Integration: plume-agent's command line and configuration errors.

--check-config prints the effective settings with the token masked and sends
nothing; configuration mistakes (unknown key with a suggestion, wrong type,
TOML syntax, missing file) exit 2 with `file:line:col: ...`; AXIOM_TOKEN in
the environment overrides the file; --version prints the version.
"""

import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import AgentTestCase, seq_lines  # noqa: E402


class ConfigTest(AgentTestCase):
    def check_config_output(self, res):
        return res.stdout.decode("utf-8", "replace") + "\n" + res.stderr

    def test_check_config_masks_token(self):
        ws = self.workspace()
        ws.set("sinks.axiom", token="xaat-TOPSECRET-4242", dataset="my-dataset")
        res = self.agent(ws, args=["--check-config"], stdin=b"").wait(30)
        self.assertExit(res, 0)
        out = self.check_config_output(res)
        self.assertNotIn("TOPSECRET", out)
        self.assertNotIn("4242", out)
        self.assertIn("my-dataset", out)
        self.assertIn(self.rx.url, out)
        self.assertRegex(out, r"(?m)^.*token.*$", "the token setting is listed (masked)")
        self.assertEqual(self.rx.requests, [], "--check-config sends nothing")

    def test_shipped_configs_are_valid(self):
        """agent.toml and every example config pass --check-config."""
        src = os.environ.get("PLUME_SOURCE_DIR",
                             os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
        paths = [os.path.join(src, "agent.toml")]
        for root, _, files in os.walk(os.path.join(src, "examples")):
            paths += [os.path.join(root, f) for f in files if f.endswith(".toml")]
        self.assertGreaterEqual(len(paths), 2)
        ws = self.workspace()
        for path in paths:
            res = self.agent(ws, args=["--config", path, "--check-config"], stdin=b"",
                             config=False, env={"PLUME_DATA_DIR": ws.data_dir}).wait(30)
            self.assertExit(res, 0)
            self.assertIn("configuration OK", res.stdout.decode())

    def write_and_check(self, lines, want_line, want_cols, *needles):
        """Writes a config from lines, runs --check-config, expects exit 2 and
        `path:line:col:` (col one of want_cols, any if None) plus the needles
        on stderr."""
        ws = self.workspace()
        text = "\n".join(lines).replace("@DATA@", ws.data_dir) + "\n"
        ws.write_config(text)
        res = self.agent(ws, args=["--check-config"], stdin=b"").wait(30)
        self.assertExit(res, 2)
        cols = r"\d+" if want_cols is None else "(?:%s)" % "|".join(map(str, want_cols))
        self.assertRegex(res.stderr, "%s:%d:%s: " % (re.escape(ws.config_path), want_line, cols))
        for n in needles:
            self.assertIn(n, res.stderr)
        return res

    def test_unknown_key_suggests_token(self):
        res = self.write_and_check([
            '[agent]',
            'data_dir = "@DATA@"',
            '',
            '[sinks.axiom]',
            'tokn = "x"',
            'dataset = "ds"',
        ], 5, (1,), "tokn")
        rest = res.stderr.replace("tokn", "")
        self.assertIn("token", rest, "suggests the key that was meant")

    def test_wrong_value_type(self):
        self.write_and_check([
            '[sinks.axiom]',
            'batch_max_events = "many"',
        ], 2, (1, 20), "batch_max_events")  # the key or its value

    def test_toml_syntax_error(self):
        self.write_and_check([
            '# comment',
            '[sinks.axiom]',
            'url = "http://unterminated',
        ], 3, None)

    def test_missing_config_file(self):
        ws = self.workspace()
        missing = os.path.join(ws.dir, "no-such.toml")
        res = self.agent(ws, config=False, args=["--config", missing, "--check-config"], stdin=b"").wait(30)
        self.assertExit(res, 2)
        self.assertIn(missing, res.stderr)

    def test_unknown_option_is_usage_error(self):
        ws = self.workspace()
        res = self.agent(ws, args=["--no-such-option"], stdin=b"").wait(30)
        self.assertExit(res, 2)

    def test_axiom_token_env_overrides_file(self):
        ws = self.workspace()
        ws.set("sinks.axiom", token="xaat-wrong-in-file")
        res = self.run_agent(ws, stdin=seq_lines(5), env={"AXIOM_TOKEN": self.rx.token})
        self.assertExit(res, 0)
        self.assertNoViolations()
        self.assertEqual(sorted(e["seq"] for e in self.rx.events), list(range(5)))

    def test_version(self):
        ws = self.workspace()
        res = self.agent(ws, config=False, args=["--version"], stdin=b"").wait(30)
        self.assertExit(res, 0)
        self.assertRegex(res.stdout.decode(), r"plume-agent\S* \d+\.\d+\.\d+")


if __name__ == "__main__":
    unittest.main(verbosity=2)
