"""``portcullis saml ...`` as an administrator types it, run as its own process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.protocols.saml.spkit import CONFLUENCE, JIRA


@pytest.fixture
def environment(tmp_path: Path) -> dict[str, str]:
    return {**os.environ,
            "PORTCULLIS_DATABASE_URL": f"sqlite://{tmp_path}/cli.sqlite3",
            "PORTCULLIS_SECRET_KEY_FILE": str(tmp_path / "secret.key"),
            "PORTCULLIS_LOG_LEVEL": "WARNING"}


def _portcullis(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "idp", *args], env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def test_add_list_disable_and_remove_applications(environment: dict[str, str]) -> None:
    added = _portcullis(environment, "saml", "add", "jira", "--preset", "jira",
                        "--base-url", JIRA)
    assert added.returncode == 0, added.stderr
    assert f"ACS: {JIRA}/plugins/servlet/samlconsumer" in added.stdout
    assert ("IdP metadata: http://localhost:8080/realms/master/protocol/saml/descriptor"
            in added.stdout)

    wiki = _portcullis(environment, "saml", "add", "wiki", "--preset", "confluence",
                       "--base-url", CONFLUENCE, "--attribute", "fullName=display_name",
                       "--attribute", "groups=groups")
    assert wiki.returncode == 0, wiki.stderr
    assert _portcullis(environment, "saml", "disable", "wiki").returncode == 0
    listed = _portcullis(environment, "saml", "list")
    assert listed.stdout.splitlines() == [
        f"jira\t{JIRA}\t{JIRA}/plugins/servlet/samlconsumer\tjira\tenabled",
        f"wiki\t{CONFLUENCE}\t{CONFLUENCE}/plugins/servlet/samlconsumer\tconfluence\tdisabled",
    ]

    assert _portcullis(environment, "saml", "remove", "jira").returncode == 0
    again = _portcullis(environment, "saml", "remove", "jira")
    assert again.returncode == 1
    assert "no SAML application named 'jira'" in again.stderr


@pytest.mark.parametrize(("args", "message"), [
    (("--preset", "jira", "--base-url", "jira.local"), "expected an absolute http(s) URL"),
    (("--base-url", JIRA, "--attribute", "uid"), "expected NAME=PROPERTY"),
    (("--base-url", JIRA, "--attribute", "uid=password"), "expected one of username"),
])
def test_bad_input_is_one_clear_line(environment: dict[str, str], args: tuple[str, ...],
                                     message: str) -> None:
    done = _portcullis(environment, "saml", "add", "x", *args)

    assert done.returncode == 1
    assert message in done.stderr and len(done.stderr.splitlines()) == 1
