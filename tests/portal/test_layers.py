"""The layers of the house hold: the import-linter contracts of pyproject.toml ([tool.importlinter]:
the ground imports no feature app, adapter never imports slas, inventory neither adapter nor
slas, workshops no operational app, slas > adapter > inventory > portal). make test runs
lint-imports too; this test makes a wrong arrow fail the suite as well."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_contracts_are_kept():
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout and "BROKEN" not in result.stdout
    # Every contract ran: a contract dropped from pyproject.toml would also drop its arrows.
    assert result.stdout.count(" KEPT") == 5, result.stdout
