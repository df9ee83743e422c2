"""Production settings pass Django's deployment checklist."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_check_deploy_reports_no_issues_in_production(tmp_path):
    # The browser tests allow async-unsafe ORM calls in this process; a production server never does.
    inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {
        **inherited,
        "KEFU_ENV": "production",
        "SECRET_KEY": "x" * 20 + "production-only-secret-with-enough-entropy-0123456789",
        "ALLOWED_HOSTS": "kefu.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'kefu.sqlite3'}",
        "KEFU_DATA_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = {**os.environ, "KEFU_ENV": "production", "SECRET_KEY": "", "KEFU_DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
