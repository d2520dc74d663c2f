"""End to end in a real browser: Playwright drives Debian's chromium on `mlplab playground`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from importlib.util import find_spec
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


def test_the_page_says_which_engine_trains(page):
    from playwright.sync_api import expect

    # the server runs with --engine auto: JAX, compiled, when it is installed
    name = "mlplab's compiled JAX engine" if find_spec("jax") else "mlplab's NumPy engine"
    expect(page.get_by_test_id("engine")).to_have_text(f"Trains with {name}")
    page.get_by_role("button", name="Play").click()
    expect(page.get_by_test_id("engine")).to_have_text(f"Trained by {name}", timeout=60_000)
    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_role("button", name="Play")).to_be_visible()


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


def test_show_code_prints_what_the_program_prints(page, tmp_path):
    page.get_by_role("button", name="Step").click()
    page.get_by_role("button", name="Show code").click()
    source = page.get_by_test_id("code-source")
    source.wait_for()
    page.wait_for_function(
        "document.querySelector('[data-testid=code-source]').textContent.length > 0"
    )
    program = tmp_path / "shown.py"
    program.write_text(source.inner_text())
    assert len(source.inner_text().splitlines()) < 80  # no data rows inline
    with page.expect_download() as download:
        page.get_by_test_id("code-data").click()
    assert download.value.suggested_filename == "playground-data.csv"
    download.value.save_as(tmp_path / "playground-data.csv")
    assert len((tmp_path / "playground-data.csv").read_text().splitlines()) == 1 + 250
    shown_text = page.get_by_test_id("code-predictions").inner_text()
    shown = [float(v) for v in re.findall(NUMBER, shown_text)]
    run = subprocess.run([sys.executable, str(program)], capture_output=True, text=True,
                         check=True, cwd=tmp_path)  # fmt: skip
    printed = [float(v) for v in re.findall(NUMBER, run.stdout)]
    assert len(printed) == len(shown) == 6  # NumPy's elided printout: 3 rows, ..., 3 rows
    np.testing.assert_allclose(printed, shown, rtol=1e-6, atol=1e-8)
    assert shown_text.startswith("[[") and shown_text.rstrip().endswith("]]")
    assert "..." in shown_text and shown_text.strip() == run.stdout.strip()
    page.get_by_role("button", name="Close").click()


def test_after_pause_the_epoch_shown_is_where_training_stopped(browser, server):
    """Frames made before the server paused still arrive after Pause: the page drops them."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    held: list[str] = []
    sockets: list = []  # the page's end of its WebSocket
    hold = [False]

    def route(ws) -> None:  # between the page and the server: holds the server's messages
        upstream = ws.connect_to_server()
        sockets.append(ws)
        upstream.on_message(lambda m: held.append(m) if hold[0] else ws.send(m))

    def frames() -> list[dict]:
        return [json.loads(m) for m in held if m.startswith('{"type":"frame"')]

    def wait_until(condition) -> None:
        for _ in range(400):
            if condition():
                return
            page.wait_for_timeout(25)
        raise AssertionError("the server sent no such frames")

    page.route_web_socket(re.compile(r".*/ws$"), route)
    page.goto(server)
    page.wait_for_function("document.querySelectorAll('[data-testid^=unit-]').length > 0")
    page.get_by_role("button", name="Play").click()
    page.wait_for_function("Number(document.querySelector('[data-testid=epoch]').textContent) > 5")
    hold[0] = True  # frames in flight: made while playing, not yet at the page
    wait_until(lambda: sum(f["playing"] for f in frames()) >= 3)
    page.evaluate(
        "window.shown = []; const e = document.querySelector('[data-testid=epoch]');"
        "new MutationObserver(() => window.shown.push(e.textContent))"
        ".observe(e, {childList: true, characterData: true, subtree: true})"
    )
    page.get_by_role("button", name="Pause").click()
    wait_until(lambda: any(not f["playing"] for f in frames()))
    stale = [f["epoch"] for f in frames() if f["playing"]]
    stopped = next(f["epoch"] for f in frames() if not f["playing"])
    assert len(stale) >= 3 and stopped >= max(stale) > min(stale)
    hold[0] = False
    for message in held:  # in the order the server sent them
        sockets[0].send(message)
    page.wait_for_function(f"window.shown.includes('{stopped}')")
    page.wait_for_timeout(300)
    shown = page.evaluate("window.shown")
    assert shown == [str(stopped)], shown  # straight to where it stopped: no stale epochs
    assert page.get_by_test_id("epoch").inner_text() == str(stopped)
    assert page.locator("#play").inner_text() == "Play"
    context.close()


LARGEST = "#hidden=8%2C8%2C8%2C8%2C8%2C8"
SHOTS = os.environ.get("MLPLAB_SCREENSHOTS")  # a folder to keep the screenshots in (docs/images)


def open_page(browser, url: str, width: int, height: int, units: int | None = None):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto(url)
    if units is None:
        page.wait_for_function("document.querySelectorAll('[data-testid^=unit-]').length > 0")
    else:
        page.wait_for_function(
            f"document.querySelectorAll('[data-testid^=unit-]').length === {units}"
        )
    return context, page


def canvas_pixels(page, script: str):
    """Run ``script`` with ``d`` the output canvas's RGBA bytes and ``w`` its width."""
    return page.evaluate(
        "() => { const c = document.querySelector('[data-testid=output]');"
        "const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        f"const w = c.width; {script} }}"
    )


def drawn_pixels(page, digest: str, tries: int = 100):
    """``canvas_pixels`` once the output canvas holds a picture (not blank) that two reads
    agree on: a page just loaded may not have drawn its first frame yet."""
    last = None
    for _ in range(tries):
        now = canvas_pixels(page, digest)
        if now and now == last:
            return now
        last = now
        page.wait_for_timeout(100)
    raise AssertionError("the output canvas was never drawn")


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)])
def test_the_largest_network_fits_a_laptop_and_a_phone(browser, server, width, height):
    context, page = open_page(browser, server + LARGEST, width, height, units=2 + 48 + 1)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    for testid in ("unit-7-0", "unit-0-0", "output", "loss-curve"):
        box = page.get_by_test_id(testid).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, (testid, box)
    if width == 1280:  # the whole network and the output panel on one laptop screen
        assert page.get_by_test_id("unit-1-7").bounding_box()["y"] + 20 < height
        assert page.get_by_test_id("output").bounding_box()["y"] + 300 < height
    context.close()


def test_an_edited_hash_applies_and_back_goes_back(page):
    from playwright.sync_api import expect

    page.evaluate("location.hash = 'dataset=spiral&hidden=3&activation=relu'")
    page.wait_for_function("document.querySelectorAll('[data-testid^=unit-]').length === 2 + 3 + 1")
    expect(page.get_by_label("Data", exact=True)).to_have_value("spiral")
    expect(page.get_by_label("Activation")).to_have_value("relu")
    assert "lr=0.03" in page.url  # the page writes out the whole set-up
    page.go_back()
    page.wait_for_function("document.querySelectorAll('[data-testid^=unit-]').length === 9")
    expect(page.get_by_label("Data", exact=True)).to_have_value("circle")
    expect(page.get_by_label("Activation")).to_have_value("tanh")


def test_a_link_with_a_bad_field_keeps_the_others_and_names_it(browser, server):
    from playwright.sync_api import expect

    context, page = open_page(browser, server + "#dataset=moons&lr=abc&activation=relu", 1280, 900)
    expect(page.get_by_label("Data", exact=True)).to_have_value("moons")
    expect(page.get_by_label("Activation")).to_have_value("relu")
    expect(page.get_by_label("Learning rate")).to_have_value("0.03")
    expect(page.get_by_role("alert")).to_have_text(
        "ignored in the link: lr=abc (the learning rate must be above 0 and at most 10); "
        "the rest applied"
    )
    assert "dataset=moons" in page.url and "lr=0.03" in page.url
    context.close()


def test_show_test_data_and_discretize_output(page):
    black = (
        "let n = 0; for (let i = 0; i < d.length; i += 4)"
        " if (d[i+3] > 200 && Math.max(d[i], d[i+1], d[i+2]) < 40) n++; return n;"
    )
    assert canvas_pixels(page, black) < 20  # no test points (black rings) yet
    page.get_by_label("Show test data").check()
    page.wait_for_url(re.compile(r"show_test=true"))
    page.wait_for_function(
        "() => { const c = document.querySelector('[data-testid=output]');"
        "const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;"
        "for (let i = 0; i < d.length; i += 4)"
        " if (d[i+3] > 200 && Math.max(d[i], d[i+1], d[i+2]) < 40) n++;"
        "return n > 500; }"
    )
    page.get_by_label("Show test data").uncheck()
    commonest = (
        "const m = new Map(); for (let y = 10; y < 290; y++) for (let x = 30; x < 312; x++) {"
        "const i = (y * w + x) * 4; const k = d[i] + ',' + d[i+1] + ',' + d[i+2];"
        "m.set(k, (m.get(k) || 0) + 1); }"
        "const top = [...m.values()].sort((a, b) => b - a);"
        "return (top[0] + (top[1] || 0)) / 79000;"
    )
    shaded = canvas_pixels(page, commonest)
    page.get_by_label("Discretize output").check()
    page.wait_for_url(re.compile(r"discretize=true"))
    page.wait_for_timeout(300)
    discrete = canvas_pixels(page, commonest)
    assert shaded < 0.5 < 0.75 < discrete  # two colours fill the plane (bar the points)


def test_a_regression_set_trains_from_its_thumbnail(page):
    from playwright.sync_api import expect

    page.get_by_role("button", name="plane thumbnail").click()
    page.wait_for_url(re.compile(r"dataset=plane"))
    expect(page.get_by_label("Problem type")).to_have_value("regression")
    expect(page.get_by_label("Problem type")).to_be_disabled()
    expect(page.get_by_role("button", name="plane thumbnail")).to_have_attribute(
        "aria-pressed", "true"
    )
    legend = page.get_by_test_id("colour-legend").inner_text()
    assert re.search(r"-1\.\d+\s+1\.\d+", legend)  # the values' range, not classes
    start = number(page, "test-loss")
    page.get_by_role("button", name="Play").click()
    page.wait_for_function(
        f"Number(document.querySelector('[data-testid=test-loss]').textContent) < {start / 4}",
        timeout=30_000,
    )
    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name="multigaussian thumbnail").click()
    page.wait_for_url(re.compile(r"dataset=multigaussian"))
    expect(page.get_by_test_id("epoch")).to_have_text("0")


def test_hovering_a_unit_shows_its_output_in_the_big_panel(page):
    from playwright.sync_api import expect

    digest = "let h = 0; for (let i = 0; i < d.length; i += 97) h = (h * 31 + d[i]) % 1e9;"
    digest += "return h;"
    before = drawn_pixels(page, digest)  # the network's output, once the page has drawn it
    page.get_by_test_id("unit-1-0").hover()
    expect(page.get_by_test_id("showing")).to_have_text(
        "Showing layer 1 unit 1 (move away for the network's output)"
    )
    assert canvas_pixels(page, digest) != before
    page.get_by_test_id("unit-0-1").hover()
    expect(page.get_by_test_id("showing")).to_contain_text("Showing x2")
    page.mouse.move(5, 5)
    expect(page.get_by_test_id("showing")).to_have_text("The network's output")
    assert canvas_pixels(page, digest) == before


def test_points_stay_visible_and_the_boundary_is_smooth(page):
    result = page.evaluate(
        """async () => {
        const { drawBoundary } = await import('/static/plots.js');
        const n = 48, g = 16, c = document.createElement('canvas');
        c.width = 320; c.height = 316;
        const half = new Uint8Array(n * n).map((_, p) => (p % n < n / 2 ? 0 : 255));
        const b64 = btoa(String.fromCharCode(...half));
        const state = { classes: 2, problem: 'classification', domain: [-6, 6], unit_grid: g,
          points: { train: { x: [[3, 0]], label: [1] }, test: { x: [], label: [] } } };
        const frame = { grid: n, output: b64, output_range: [0, 1] };
        drawBoundary(c, state, frame, { showTest: false, discretize: false, unit: null });
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        const px = (x, y) => [...d.slice((y * c.width + x) * 4, (y * c.width + x) * 4 + 3)];
        const dist = (a, b) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
        // the point at (3, 0): plot x = 28 + 9/12 * 286, y = 6 + 143
        const cx = Math.round(28 + 0.75 * 286), cy = 6 + 143;
        let step = 0;
        for (let x = 30; x < 312; x++) step = Math.max(step, dist(px(x, 40), px(x + 1, 40)));
        // a slanted edge: the logits rise along (1, -1/2); the probabilities saturate (0 or 1)
        const z = (p) => Math.max(-12, Math.min(12, 2 * ((p % n) - 0.5 * Math.floor(p / n) - 12)));
        const logits = new Uint8Array(n * n).map((_, p) => Math.round(((z(p) + 12) / 24) * 255));
        const saturated = new Uint8Array(n * n).map((_, p) => (z(p) > 0 ? 255 : 0));
        const text = (a) => btoa(String.fromCharCode(...a));
        const edge = { ...frame, output: text(saturated), output_z: text(logits) };
        edge.z_range = [-12, 12];
        const none = { x: [], label: [] };
        const empty = { ...state, points: { train: none, test: none } };
        drawBoundary(c, empty, edge, { showTest: false, discretize: true, unit: null });
        const e = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        const rows = [], turns = [];
        for (let y = 20; y < 280; y++) {
            let x = 30;
            while (x < 312 && e[(y * c.width + x) * 4 + 2] < 150) x++;  // blue is high in b
            rows.push(y);
            turns.push(x);
        }
        // how far the edge strays from the straight line fitted through it
        const m = rows.length, my = rows.reduce((a, b) => a + b) / m;
        const mx = turns.reduce((a, b) => a + b) / m;
        let sxy = 0, syy = 0;
        for (let i = 0; i < m; i++) {
            sxy += (rows[i] - my) * (turns[i] - mx);
            syy += (rows[i] - my) ** 2;
        }
        const slope = sxy / syy;
        let stray = 0;
        for (let i = 0; i < m; i++) {
            stray = Math.max(stray, Math.abs(turns[i] - (mx + slope * (rows[i] - my))));
        }
        return { point: dist(px(cx, cy), px(cx + 12, cy)),
                 full: dist(px(40, 40), px(300, 40)), step, stray, slope };
    }"""
    )
    assert result["point"] > 60  # a blue point on the bluest region still stands out
    # a sharp edge between two cells is drawn as a gradient over the pixels between their
    # centres (a blocky, nearest-cell drawing jumps the full distance at once)
    assert result["step"] < 0.4 * result["full"]
    # a slanted edge is a straight line, not a staircase of the grid's 6-pixel cells
    assert result["slope"] == pytest.approx(0.5, abs=0.05) and result["stray"] <= 1.0, result


def test_controls_that_do_not_apply_are_disabled(page):
    from playwright.sync_api import expect

    page.get_by_label("Data", exact=True).select_option("xor")
    page.wait_for_url(re.compile(r"dataset=xor"))
    for control in ("#noise", "#points", "#train_ratio"):
        expect(page.locator(control)).to_be_disabled()
    expect(page.get_by_role("button", name="Regenerate")).to_be_disabled()
    expect(page.locator("#reg_rate")).to_be_disabled()
    page.locator("#regularization").select_option("L2")
    expect(page.locator("#reg_rate")).to_be_enabled()
    page.get_by_label("Data", exact=True).select_option("circle")
    for control in ("#noise", "#points", "#train_ratio"):
        expect(page.locator(control)).to_be_enabled()


def test_ticks_and_colour_legend(page):
    from playwright.sync_api import expect

    expect(page.get_by_test_id("colour-legend")).to_have_text(re.compile(r"class 0\s*class 1"))
    ink = canvas_pixels(
        page,
        "let n = 0; for (let y = 0; y < 316; y++) for (let x = 0; x < 24; x++)"
        " if (d[(y * w + x) * 4 + 3] > 0) n++; return n;",
    )
    assert ink > 100  # the tick labels -6 ... 6 left of the plane
    page.get_by_role("button", name="gaussians3 thumbnail").click()
    expect(page.get_by_test_id("colour-legend")).to_have_text(
        re.compile(r"class 0\s*class 1\s*class 2")
    )


def test_errors_speak_the_page_s_words_and_go_with_the_next_success(page):
    from playwright.sync_api import expect

    page.get_by_test_id("link-0-1-2").click()
    page.get_by_label("New weight").fill("1e309")
    page.get_by_label("New weight").press("Enter")
    expect(page.get_by_role("alert")).to_have_text("a weight must be between -100 and 100")
    page.get_by_role("button", name="Step").click()
    expect(page.get_by_role("alert")).to_be_hidden()
    page.get_by_test_id("unit-2-1").click()
    expect(page.get_by_label("New bias")).to_be_visible()
    page.get_by_label("New bias").fill("0.5")
    page.get_by_label("New bias").press("Enter")
    page.wait_for_timeout(200)
    expect(page.get_by_role("alert")).to_be_hidden()


def test_a_non_text_upload_is_one_readable_line(page, tmp_path):
    from playwright.sync_api import expect

    from mlplab import MLP

    model = tmp_path / "model.safetensors"
    MLP([2, 3, 1], seed=0).save(model)
    page.get_by_label("Upload CSV").set_input_files(str(model))
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("model.safetensors: not a")
    assert "internal error" not in alert.inner_text() and "\n" not in alert.inner_text()


def test_the_header_does_not_shift_when_play_becomes_pause(page):
    from playwright.sync_api import expect

    before = (page.locator("header").bounding_box(), page.locator("#step").bounding_box())
    page.get_by_role("button", name="Play").click()
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    after = (page.locator("header").bounding_box(), page.locator("#step").bounding_box())
    page.get_by_role("button", name="Pause").click()
    assert after == before


def test_a_disconnect_turns_pause_back_into_play(browser):
    require("uvicorn")
    proc = subprocess.Popen(  # the NumPy engine: a disconnect is the same, and JAX not imported
        [sys.executable, "-m", "mlplab", "playground", "--port", "0", "--engine", "numpy"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        url = re.search(r"http://\S+/", proc.stdout.readline()).group(0)
        context, page = open_page(browser, url, 1280, 900)
        page.get_by_role("button", name="Play").click()
        page.get_by_role("button", name="Pause").wait_for()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()
    from playwright.sync_api import expect

    expect(page.get_by_role("alert")).to_contain_text("Disconnected from the playground server")
    expect(page.locator("#play")).to_have_text("Play")
    expect(page.locator("#play")).to_be_disabled()
    context.close()


def test_the_article_explains_and_links_the_seed(page):
    article = page.locator("article")
    assert "What you are looking at" in article.inner_text()
    link = article.get_by_role("link", name=re.compile("A Neural Network in 11 lines"))
    assert (
        link.get_attribute("href") == "https://iamtrask.github.io/2015/07/12/basic-python-network/"
    )
    seed = page.get_by_test_id("seed").inner_text().strip().splitlines()
    assert len(seed) == 11 and seed[4] == "for j in range(60000):"


def test_screenshots_of_the_largest_network_a_regression_set_and_a_phone(browser, server, tmp_path):
    folder = Path(SHOTS) if SHOTS else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    shots = [
        ("playground-largest-network.png", LARGEST + "&dataset=spiral&features=x1%2Cx2%2Csinx1"
         "%2Csinx2&noise=0.1", 1280, 800, True),
        ("playground-regression.png", "#dataset=multigaussian&problem=regression&hidden=8%2C8%2C4"
         "&features=x1%2Cx2%2Cx1sq%2Cx2sq", 1280, 800, True),
        ("playground-phone.png", LARGEST, 390, 844, False),
    ]  # fmt: skip
    # the docs' pictures show 300 epochs of training; what the test checks (a picture of
    # the trained page, not a blank one) needs only that training ran and drew
    epochs = 300 if SHOTS else 20
    for name, fragment, width, height, train in shots:
        context, page = open_page(browser, server + fragment, width, height)
        page.wait_for_function("document.querySelectorAll('[data-testid^=unit-]').length > 8")
        if train:
            page.get_by_role("button", name="Play").click()
            page.wait_for_function(
                f"Number(document.querySelector('[data-testid=epoch]').textContent) > {epochs}",
                timeout=60_000,
            )
            page.get_by_role("button", name="Pause").click()
            page.get_by_role("button", name="Play").wait_for()
        page.screenshot(path=str(folder / name), full_page=width < 500)
        assert (folder / name).stat().st_size > 20_000
        context.close()
