"""The public API: what __all__ exports is what the README documents; imports stay light."""

import re
import subprocess
import sys
from pathlib import Path

import mlplab

README = Path(__file__).resolve().parents[1] / "README.md"


def test_all_matches_the_readme_api_section():
    text = README.read_text()
    section = text.split("## Python API", 1)[1].split("\n## ", 1)[0]
    bullets = re.findall(r"^- (.*?): ", section, flags=re.MULTILINE)
    documented = {name for b in bullets for name in re.findall(r"`(\w+)`", b)}
    documented |= set(re.findall(r"`(\w+Error)`", section))
    assert documented == set(mlplab.__all__) - {"__version__"}
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
