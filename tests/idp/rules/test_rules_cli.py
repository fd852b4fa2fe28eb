"""The ``portcullis rule`` command, run as a real process against an SQLite file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_rule_commands_add_order_test_and_refuse(tmp_path: Path) -> None:
    env = {**os.environ, "PORTCULLIS_DATABASE_URL": f"sqlite://{tmp_path}/cli.sqlite3",
           "PORTCULLIS_SECRET_KEY_FILE": str(tmp_path / "secret.key")}

    def rule(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "idp", "rule", *args], env=env,
                              capture_output=True, text=True, timeout=60)

    assert rule("add", "corp", "--condition", "email_domain", "--domain", "corp.example",
                "--subdomains", "--action", "upstream", "--target", "corp-entra").returncode == 0
    assert rule("add", "portal", "--condition", "default", "--action", "redirect",
                "--target", "https://portal.example/").returncode == 0
    assert rule("test", "ann@eu.corp.example").stdout.splitlines()[0] == "upstream corp-entra"

    assert rule("move", "portal", "1").returncode == 0
    assert rule("test", "ann@eu.corp.example").stdout.splitlines()[0] == (
        "redirect https://portal.example/")
    listed = rule("list").stdout.splitlines()
    assert [line.split("\t")[1] for line in listed] == ["portal", "corp"]

    refused = rule("add", "bad", "--condition", "default", "--action", "redirect",
                   "--target", "http://portal.example/")
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [
        "portcullis: error: redirect target 'http://portal.example/' must use https "
        "(http is allowed for localhost only)"]
    assert len(rule("list").stdout.splitlines()) == 2
