"""The step-through and the hovers in Debian's chromium, driven by Playwright on `mlplab
playground` (the browser, server and page fixtures are test_playground_browser's)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import test_playground_browser as playground
from test_playground_browser import SHOTS, open_page

browser, server, page = playground.browser, playground.server, playground.page  # the fixtures

NUM = r"−?\d+\.\d+(?:e[-+]?\d+)?"  # as in a formula
WEIGHT = r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?"  # as fmt writes it


def value(text: str) -> float:
    """A number as the page writes it (a minus sign, not a hyphen)."""
    return float(text.replace("−", "-"))


def traced(page) -> set[str]:
    """The test ids of the diagram's units and links marked for the current line."""
    return set(
        page.evaluate(
            "[...document.querySelectorAll('#diagram .traced')].map(e => e.dataset.testid)"
        )
    )


def parts(page, prefix: str) -> set[str]:
    return set(
        page.evaluate(
            f"[...document.querySelectorAll('[data-testid^={prefix}]')].map(e => e.dataset.testid)"
        )
    )


def hover_link(page, testid: str, at: float = 0.25) -> None:
    """Move the pointer onto a link's curve, ``at`` of the way along it."""
    x, y = page.evaluate(
        "([id, at]) => { const p = document.querySelector(`[data-testid=${id}]`);"
        "const q = p.getPointAtLength(p.getTotalLength() * at);"
        "const box = p.ownerSVGElement.getBoundingClientRect();"
        "return [box.left + q.x, box.top + q.y]; }",
        [testid, at],
    )
    page.mouse.move(x, y)


def walk_to(page, text: str, limit: int = 30) -> None:
    """Press Next line until the current line is ``text``."""
    for _ in range(limit):
        if page.get_by_test_id("trace-line").inner_text() == text:
            return
        page.get_by_role("button", name=re.compile(r"^Next (line|step)$")).click()
        page.wait_for_function("!document.getElementById('next-line').disabled")
    raise AssertionError(f"no line {text!r} in {limit} presses")


def test_next_line_walks_the_traced_step_highlighting_what_each_line_touches(page):
    from playwright.sync_api import expect

    panel = page.get_by_test_id("stepthrough")
    assert not panel.is_visible()
    page.get_by_role("button", name="Next line").click()
    expect(page.get_by_test_id("trace-counter")).to_have_text("Epoch 0 → 1: line 1 of 19")
    expect(page.get_by_test_id("trace-line")).to_have_text("h1 = tanh(X @ W1 + b1)")
    expect(page.get_by_test_id("epoch")).to_have_text("1")  # the network took the step
    assert (
        page.get_by_test_id("trace-batch")
        .inner_text()
        .startswith("batch 1 of 25: 10 rows (the first 4 shown)")
    )
    assert "mlplab.nn.layer" in page.get_by_test_id("trace-source").inner_text()
    # h1 = tanh(X @ W1 + b1) reads the inputs through W1 and gives layer 1
    assert traced(page) == parts(page, "unit-0-") | parts(page, "unit-1-") | parts(page, "link-0-")
    X = page.get_by_test_id("array-X")
    assert X.locator("figcaption").inner_text() == "X (10×2), first 4 rows"
    assert X.locator("tr").count() == 4
    h1 = page.get_by_test_id("array-h1")
    assert h1.locator("figcaption").inner_text() == "h1 (10×4), first 4 rows, computed here"
    cells = [value(c) for c in h1.locator("td").all_inner_texts()]
    assert len(cells) == 16 and all(-1 <= c <= 1 for c in cells)  # tanh's range

    walk_to(page, "y = σ(h2 @ W3 + b3)")
    expect(page.get_by_test_id("trace-counter")).to_have_text("Epoch 0 → 1: line 3 of 19")
    assert traced(page) == parts(page, "unit-2-") | parts(page, "unit-3-") | parts(page, "link-2-")
    walk_to(page, "delta2 = (delta3 @ W3.T) * (1 - h2**2)")  # a hidden delta, through W3
    assert traced(page) == parts(page, "unit-2-") | parts(page, "link-2-")
    current = page.locator("[data-testid=trace-list] li[aria-current=step]")
    assert current.inner_text() == "delta2 = (delta3 @ W3.T) * (1 - h2**2)"
    walk_to(page, "W1 -= lr * dW1")
    assert traced(page) == parts(page, "unit-0-") | parts(page, "unit-1-") | parts(page, "link-0-")
    before = page.get_by_test_id("array-W1-before").locator("td").all_inner_texts()
    after = page.get_by_test_id("array-W1-after").locator("td").all_inner_texts()
    assert len(before) == len(after) == 8 and before != after
    assert page.get_by_test_id("array-W1-after").locator("td.changed").count() > 0
    walk_to(page, "b3 -= lr * db3")  # the last line: the next press traces the next step
    page.get_by_role("button", name="Next step").click()
    expect(page.get_by_test_id("trace-counter")).to_have_text("Epoch 1 → 2: line 1 of 19")
    expect(page.get_by_test_id("epoch")).to_have_text("2")


def test_next_line_works_when_paused_and_play_ends_the_walk(page):
    from playwright.sync_api import expect

    page.get_by_role("button", name="Next line").click()
    expect(page.get_by_test_id("trace-line")).to_have_text("h1 = tanh(X @ W1 + b1)")
    assert traced(page)
    page.get_by_role("button", name="Play").click()
    expect(page.get_by_role("button", name="Next line")).to_be_disabled()
    page.wait_for_function("!document.getElementById('diagram').classList.contains('tracing')")
    assert traced(page) == set()
    expect(page.get_by_test_id("stepthrough")).to_have_attribute("data-ended", "true")  # dimmed
    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_role("button", name="Next line")).to_be_enabled()
    epoch = int(page.get_by_test_id("epoch").inner_text())
    page.get_by_role("button", name="Next line").click()  # a new walk, from where training is
    expect(page.get_by_test_id("trace-counter")).to_have_text(
        f"Epoch {epoch} → {epoch + 1}: line 1 of 19"
    )


FORMULA = re.compile(
    rf"h1_3 = tanh\((?P<named>[^)]*)\) = (?P<out>{NUM})\n"
    rf"at \(x1, x2\) = \((?P<x1>{NUM}), (?P<x2>{NUM})\): "
    rf"tanh\((?P<numbers>.*)\) = tanh\((?P<z>{NUM})\) = (?P<out2>{NUM})\n"
    rf"bias of layer 1 unit 3: (?P<bias>{WEIGHT})$"
)


def formula_at(page, testid: str, x: float, y: float) -> str:
    """Hover ``testid`` at ``(x, y)`` px and wait for its formula (a new text in the box)."""
    before = page.evaluate("document.getElementById('hover').textContent")
    page.get_by_test_id(testid).hover(position={"x": x, "y": y})
    page.wait_for_function(
        "(before) => { const box = document.getElementById('hover');"
        "return !box.hidden && box.textContent.includes('at (x1, x2)')"
        " && box.textContent !== before; }",
        arg=before,
    )
    return page.get_by_test_id("hover").inner_text()


def terms(text: str) -> list[tuple[float, str]]:
    """``−0.70·x1 + 0.67·x2 + 0.02`` as ``[(-0.70, "x1"), (0.67, "x2"), (0.02, "")]``."""
    pieces = re.split(r" ([+−]) ", text)
    signs = ["", *pieces[1::2]]
    out = []
    for sign, piece in zip(signs, pieces[::2], strict=True):
        factor, _, name = piece.partition("·")
        out.append(((-1 if sign == "−" else 1) * value(factor), name.strip("()")))
    return out


def test_hovering_a_unit_shows_its_formula_with_the_numbers_at_the_point(page):
    page.get_by_role("button", name="Next line").click()  # weights that have learned a step
    page.get_by_test_id("trace-line").wait_for()
    unit = page.get_by_test_id("unit-1-2")
    size = unit.bounding_box()["width"]
    text = formula_at(page, "unit-1-2", 1, 1)  # the top left corner: x1 = -6, x2 = 6
    match = FORMULA.search(text)
    assert match, text
    x1, x2, z, out = (value(match[k]) for k in ("x1", "x2", "z", "out"))
    assert -6 <= x1 < -5 and 5 < x2 <= 6
    assert abs(math.tanh(z) - out) <= 0.006 and match["out2"] == match["out"]
    # tanh(0.31·x1 − 1.20·x2 + 0.05): the weights are the links', then the unit's bias
    named = terms(match["named"])
    assert [name for _, name in named] == ["x1", "x2", ""]
    for source, (weight, _) in enumerate(named[:2]):
        link = page.get_by_test_id(f"link-0-{source}-2").get_attribute("data-weight")
        assert abs(weight - float(link)) <= 0.005, (source, weight, link)
    # the same with the point's numbers: its sum is z, to the rounding of what is shown
    numbers = terms(match["numbers"])
    assert [value(v) for _, v in numbers[:2]] == [x1, x2]
    assert [w for w, _ in numbers] == [w for w, _ in named]
    total = sum(w * value(v) for w, v in numbers[:2]) + numbers[2][0]
    assert abs(total - z) <= 0.05
    assert abs(float(match["bias"]) - numbers[2][0]) <= 0.005  # the bias, to 4 digits below

    # bottom right (a position counts from inside the unit's 1 px border)
    other = FORMULA.search(formula_at(page, "unit-1-2", size - 3, size - 3))
    assert other and value(other["x1"]) > 5 and value(other["x2"]) < -5
    assert other["named"] == match["named"]  # the same unit, another point
    text = formula_at(page, "unit-0-1", size / 2, size / 4)  # an input: x2 at the point
    assert re.fullmatch(rf"x2 = ({NUM}) at \(x1, x2\) = \(({NUM}), \1\)", text), text
    text = formula_at(page, "unit-3-0", size / 2, size / 2)
    assert re.match(rf"y = σ\(.*h2_1.*h2_2.*\) = ({NUM})\nat \(x1, x2\)", text), text


def test_hovering_a_link_shows_its_weight_and_last_gradient(page):
    link = page.get_by_test_id("link-0-1-2")
    hover = page.get_by_test_id("hover")
    link.hover()
    page.wait_for_function("document.getElementById('hover').textContent.includes('gradient')")
    assert re.fullmatch(
        rf"weight from x2 to layer 1 unit 3: {WEIGHT}\n"
        r"last gradient dL/dw: none yet \(step through a line to see one\)",
        hover.inner_text(),
    ), hover.inner_text()
    page.get_by_role("button", name="Next line").click()
    page.get_by_test_id("trace-line").wait_for()
    page.get_by_test_id("unit-0-0").hover()
    link.hover()
    page.wait_for_function("/dL\\/dw: -?\\d/.test(document.getElementById('hover').textContent)")
    match = re.fullmatch(
        rf"weight from x2 to layer 1 unit 3: ({WEIGHT})\n"
        rf"last gradient dL/dw: ({WEIGHT})",
        hover.inner_text(),
    )
    assert match, hover.inner_text()
    weight = float(link.get_attribute("data-weight"))  # the frame's, to 5 decimals
    assert abs(float(match[1]) - weight) <= 5e-4 * abs(weight) + 1e-5  # 4 digits shown
    assert float(match[2]) != 0


def test_screenshots_of_the_step_through_and_the_hovers(browser, server, tmp_path):
    folder = Path(SHOTS) if SHOTS else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    context, page = open_page(browser, server + "#dataset=xor&hidden=4%2C2&lr=1", 1280, 900)
    page.wait_for_function("document.querySelectorAll('[data-testid^=unit-]').length === 9")
    walk_to(page, "delta1 = (delta2 @ W2.T) * (1 - h1**2)")
    page.get_by_test_id("unit-0-0").hover()  # no hover box in the first picture
    page.mouse.move(1, 1)
    page.screenshot(path=str(folder / "playground-step-through.png"))
    size = page.get_by_test_id("unit-1-2").bounding_box()["width"]
    formula_at(page, "unit-1-2", size * 0.8, size * 0.3)
    clip = {"x": 200, "y": 50, "width": 900, "height": 330}
    page.screenshot(path=str(folder / "playground-unit-formula.png"), clip=clip)
    hover_link(page, "link-2-0-0")
    page.wait_for_function("/dL\\/dw: -?\\d/.test(document.getElementById('hover').textContent)")
    page.screenshot(path=str(folder / "playground-link-gradient.png"), clip=clip)
    for name in ("step-through", "unit-formula", "link-gradient"):
        assert (folder / f"playground-{name}.png").stat().st_size > 20_000
    context.close()
