"""The policy package stays pure: no database, no web framework, no I/O libraries."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODULES = [p.stem for p in (ROOT / "app" / "policy").glob("*.py") if p.stem != "__init__"]


def test_policy_modules_import_neither_sqlalchemy_nor_fastapi() -> None:
    imports = "; ".join(f"import app.policy.{name}" for name in MODULES)
    check = (
        f"{imports}; import sys; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'sqlalchemy', 'fastapi', 'starlette', 'asyncpg', 'httpx'}); print(bad)"
    )
    result = subprocess.run(
        [sys.executable, "-c", check], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
    assert len(MODULES) >= 10


def test_every_policy_module_is_short() -> None:
    for path in (ROOT / "app" / "policy").glob("*.py"):
        assert len(path.read_text().splitlines()) < 400, path.name
