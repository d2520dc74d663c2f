"""End to end in a real browser: Playwright drives Debian's chromium on `mlplab playground`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import missing_optional, require

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
NUMBER = r"-?\d+\.\d+(?:e[-+]?\d+)?"


@pytest.fixture(scope="module")
def server():
    require("uvicorn")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlplab", "playground", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    line = proc.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:\d+/", line)
    if match is None:
        proc.kill()
        proc.wait()
        raise AssertionError(f"no address printed: {line!r} {proc.stderr.read()!r}")
    yield match.group(0)
    proc.terminate()
    proc.wait(timeout=10)
    proc.stdout.close()
    proc.stderr.close()


@pytest.fixture(scope="module")
def browser():
    sync_api = require("playwright.sync_api")
    if not CHROMIUM.exists():
        missing_optional(f"{CHROMIUM} is not installed (apt-get install chromium)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server)
    page.get_by_test_id("epoch").wait_for()
    page.wait_for_function("document.querySelectorAll('[data-testid^=unit-]').length > 0")
    yield page
    context.close()
    assert errors == []


def number(page, testid: str) -> float:
    return float(page.get_by_test_id(testid).inner_text())


def units(page) -> int:
    return page.locator("[data-testid^=unit-]").count()


def test_play_learns_the_circle_then_the_diagram_and_data_follow_the_controls(page, tmp_path):
    from playwright.sync_api import expect

    assert page.get_by_label("Data", exact=True).input_value() == "circle"
    page.get_by_role("button", name="Play").click()
    page.wait_for_function(
        "Number(document.querySelector('[data-testid=test-loss]').textContent) < 0.1 && "
        "Number(document.querySelector('[data-testid=epoch]').textContent) > 0",
        timeout=30_000,
    )
    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_role("button", name="Play")).to_be_visible()
    assert number(page, "test-loss") < 0.1 and number(page, "train-loss") < 0.2
    assert int(page.get_by_test_id("epoch").inner_text()) > 0

    before = units(page)
    page.get_by_role("button", name="Add layer").click()
    page.wait_for_function(f"document.querySelectorAll('[data-testid^=unit-]').length > {before}")
    assert units(page) == before + 2
    assert "hidden=4%2C2%2C2" in page.url
    expect(page.get_by_test_id("layer-count")).to_have_text("3 hidden layers")

    page.get_by_role("button", name="Add neuron to layer 1").click()
    page.wait_for_function(
        f"document.querySelectorAll('[data-testid^=unit-]').length > {before + 2}"
    )
    assert "hidden=5%2C2%2C2" in page.url

    page.get_by_role("button", name="Step").click()
    expect(page.get_by_test_id("epoch")).to_have_text("1")
    page.get_by_role("button", name="Rewind").click()
    expect(page.get_by_test_id("epoch")).to_have_text("0")

    page.get_by_label("Data", exact=True).select_option("spiral")
    page.wait_for_url(re.compile(r"dataset=spiral"))
    expect(page.get_by_test_id("epoch")).to_have_text("0")
    page.screenshot(path=str(tmp_path / "playground.png"), full_page=True)
    assert (tmp_path / "playground.png").stat().st_size > 10_000


def test_a_link_shows_its_weight_and_takes_a_typed_one(page):
    link = page.get_by_test_id("link-0-1-2")
    link.hover()
    hover = page.get_by_test_id("hover")
    assert re.search(r"weight from x2 to layer 1 unit 3: " + NUMBER, hover.inner_text())
    link.click()
    page.get_by_label("New weight").fill("-2.5")
    page.get_by_label("New weight").press("Enter")
    page.wait_for_function(
        "document.querySelector('[data-testid=link-0-1-2]').dataset.weight === '-2.5'"
    )
    assert float(link.get_attribute("stroke-width")) > 4  # thickened by magnitude
    assert link.get_attribute("stroke") == "rgb(245,147,34)"  # orange: negative
    page.get_by_test_id("unit-1-0").hover()
    assert re.search(r"bias of layer 1 unit 1: -?\d", page.get_by_test_id("hover").inner_text())


def test_the_url_reproduces_a_set_up(browser, server):
    page = browser.new_page()
    page.goto(server + "#dataset=moons&hidden=3&activation=relu&lr=0.1&features=x1%2Cx2%2Cx1x2")
    page.wait_for_function("document.querySelector('#dataset').value === 'moons'")
    assert page.get_by_label("Activation").input_value() == "relu"
    assert page.get_by_label("Learning rate").input_value() == "0.1"
    page.wait_for_function("document.querySelectorAll('[data-testid^=unit-]').length === 3 + 3 + 1")
    assert page.get_by_role("checkbox", name="x1*x2", exact=True).is_checked()
    page.close()


def test_multi_class_sets_colour_each_class(page):
    page.get_by_label("Data", exact=True).select_option("gaussians3")
    page.wait_for_url(re.compile(r"dataset=gaussians3"))
    page.get_by_role("button", name="Play").click()
    page.wait_for_function("Number(document.querySelector('[data-testid=epoch]').textContent) > 50")
    page.get_by_role("button", name="Pause").click()
    green = page.evaluate(
        """() => {
        const c = document.querySelector('[data-testid=output]');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) {
            if (d[i + 1] > d[i] + 30 && d[i + 1] > d[i + 2] + 30) n++;
        }
        return n;
    }"""
    )
    assert green > 1000  # the third class's region is green


def test_csv_upload_and_a_bad_file(page, tmp_path):
    good = tmp_path / "points.csv"
    rows = [
        f"{x:.3f},{y:.3f},{int(x * y > 0)}"
        for x, y in np.random.default_rng(0).uniform(-3, 3, (60, 2))
    ]
    good.write_text("x1,x2,label\n" + "\n".join(rows) + "\n")
    page.get_by_label("Upload CSV").set_input_files(str(good))
    page.wait_for_url(re.compile(r"dataset=upload"))
    assert page.get_by_label("Data", exact=True).input_value() == "upload"
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2,0\n3,oops,1\n5,6,0\n7,8,1\n")
    page.get_by_label("Upload CSV").set_input_files(str(bad))
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "bad.csv: row 2, column x2: 'oops' is not a number" in alert.inner_text()


def test_show_code_prints_the_predictions_the_page_shows(page, tmp_path):
    page.get_by_role("button", name="Step").click()
    page.get_by_role("button", name="Show code").click()
    source = page.get_by_test_id("code-source")
    source.wait_for()
    page.wait_for_function(
        "document.querySelector('[data-testid=code-source]').textContent.length > 0"
    )
    program = tmp_path / "shown.py"
    program.write_text(source.inner_text())
    shown = [
        float(v) for v in re.findall(NUMBER, page.get_by_test_id("code-predictions").inner_text())
    ]
    run = subprocess.run([sys.executable, str(program)], capture_output=True, text=True, check=True)
    printed = [float(v) for v in re.findall(NUMBER, run.stdout)]
    assert len(printed) == len(shown) == 250
    np.testing.assert_allclose(printed, shown, rtol=1e-6, atol=1e-8)
    page.get_by_role("button", name="Close").click()
