"""``auditlink rules`` and ``auditlink load-rules``."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from auditlink import AuditClient
from auditlink.__main__ import main

CORPUS = Path(__file__).parent / "data" / "rules" / "corpus.rules"


def test_dry_run_ok(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["load-rules", "--dry-run", str(CORPUS)]) == 0
    out = capsys.readouterr()
    assert out.out.strip() == f"{CORPUS}: 134 lines ok=True (add_rule 134)"


def test_dry_run_error_points_at_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "bad.rules"
    p.write_text("-w /etc/shadow -p wa\n-a always,exit -F arch=b64 -S open -F nosuch=1\n")
    os.chmod(p, 0o600)
    assert main(["load-rules", "--dry-run", str(p)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"{p}:2: -F unknown field: nosuch"
    assert err[1] == "    -a always,exit -F arch=b64 -S open -F nosuch=1"
    assert err[2] == "    " + " " * len("-a always,exit -F arch=b64 -S open -F ") + "^"


@pytest.mark.kernel
def test_rules_lists_like_auditctl(
    kernel_client: AuditClient, capsys: pytest.CaptureFixture[str]
) -> None:
    client = kernel_client
    client.delete_all_rules()
    assert main(["rules"]) == 0
    assert capsys.readouterr().out == "No rules\n"
    client.add_rule("-w /etc/shadow -p wa -k identity")
    client.add_rule("-a always,exit -F arch=b64 -S openat -F auid>=1000 -k access")
    assert main(["rules"]) == 0
    out = capsys.readouterr().out
    ref = subprocess.run(["auditctl", "-l"], capture_output=True, text=True, check=True).stdout
    assert out == ref
    assert main(["rules", "-k", "acc"]) == 0
    assert capsys.readouterr().out == ref.splitlines(keepends=True)[1]
