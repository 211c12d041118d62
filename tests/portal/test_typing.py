"""mypy (make test, pyproject.toml [tool.mypy]) checks the typed surface of every app: each
services.py and selectors.py at any depth (an app's rooms, such as portal/notifications, too)
and each app's registrations (tiles, search, navigation, events, reports), all with
disallow_untyped_defs. These tests read the configuration with mypy's own parser, so a module
left out of the globs, or a glob that stops matching a new app, fails the suite rather than
going unchecked in silence. make test runs mypy itself."""
import sys
from pathlib import Path

import pytest
from mypy.config_parser import parse_config_file
from mypy.options import Options

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = ROOT / "pyproject.toml"
TYPED_NAMES = ("services.py", "selectors.py")
REGISTRATIONS = ("tiles.py", "search.py", "navigation.py", "events.py", "reports.py")


def _options(cwd: Path, monkeypatch: pytest.MonkeyPatch) -> Options:
    # mypy expands the globs of ``files`` from the directory it runs in (make test: the root).
    monkeypatch.chdir(cwd)
    options = Options()
    parse_config_file(options, lambda: None, str(PYPROJECT), sys.stdout, sys.stderr)
    return options


def _module(path: str) -> str:
    return path.removesuffix(".py").replace("/", ".")


def _strict(options: Options, path: str) -> bool:
    per_module = options.clone_for_module(_module(path))
    return per_module.disallow_untyped_defs and per_module.disallow_incomplete_defs


def _apps() -> list[Path]:
    return sorted(path.parent for path in ROOT.glob("*/apps.py"))


def test_every_service_selector_and_registration_is_checked(monkeypatch):
    options = _options(ROOT, monkeypatch)
    checked = set(options.files or [])
    expected = set()
    for app in _apps():
        for name in TYPED_NAMES:
            expected |= {str(path.relative_to(ROOT)) for path in app.rglob(name) if "migrations" not in path.parts}
        expected |= {str((app / name).relative_to(ROOT)) for name in REGISTRATIONS if (app / name).exists()}
    assert "portal/notifications/services.py" in expected and "slas/tiles.py" in expected  # the scan found them
    assert not expected - checked, f"not checked by mypy: {sorted(expected - checked)}"


def test_every_checked_module_has_typed_signatures(monkeypatch):
    options = _options(ROOT, monkeypatch)
    assert options.files
    loose = [path for path in options.files if not _strict(options, path)]
    assert not loose, f"checked without disallow_untyped_defs: {loose}"
    missing = [path for path in options.files if not (ROOT / path).exists()]
    assert not missing, f"pyproject.toml names modules that do not exist: {missing}"


def test_a_new_apps_services_selectors_and_tiles_are_picked_up(tmp_path, monkeypatch):
    # A new app (servicedesk is coming) needs no line in pyproject.toml: the globs find it.
    new = ["servicedesk/services.py", "servicedesk/selectors.py", "servicedesk/incidents/services.py",
           "servicedesk/tiles.py", "servicedesk/search.py", "servicedesk/events.py"]
    for path in new:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("")
    options = _options(tmp_path, monkeypatch)
    assert set(new) <= set(options.files or [])
    assert all(_strict(options, path) for path in new)
