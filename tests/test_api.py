"""The public API: what __all__ exports is what the API overview lists; imports stay light."""

import re
import subprocess
import sys
from pathlib import Path

import mlplab

OVERVIEW = Path(__file__).resolve().parents[1] / "docs" / "api" / "index.md"


def test_all_matches_the_api_overview():
    text = OVERVIEW.read_text(encoding="utf-8")
    section = text.split("## `import mlplab`", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`mlplab\.(\w+)`", section)) - {"__all__"}
    assert documented == set(mlplab.__all__)
    for name in mlplab.__all__:
        assert hasattr(mlplab, name)


def test_importing_mlplab_stays_light():
    code = (
        "import sys, mlplab; heavy = {'matplotlib', 'click', 'tqdm', 'sklearn', 'torch', "
        "'scipy', 'pandas', 'starlette', 'safetensors'}; "
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
