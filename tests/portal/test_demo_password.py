"""The demo superuser's stored password never lands in git (issue 18): it lives in VAR_DIR, which by
default is the repository's git-ignored var/ folder. (load_demo's refusal with DEBUG off, the random
password, --admin-password / DEMO_ADMIN_PASSWORD and demo_logins are tested in test_site.py.)"""
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(), reason="not a git checkout")
def test_the_stored_demo_admin_password_is_git_ignored():
    from portal import demo

    default = ROOT / "var" / demo.ADMIN_PASSWORD_FILE
    ignored = subprocess.run(["git", "-C", str(ROOT), "check-ignore", "-q", str(default)], check=False)
    assert ignored.returncode == 0, f"{default} would be committed"
