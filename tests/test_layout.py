"""The package's shape: layers that import only downward, no import cycles, small modules.

Layers, lowest first (a module may import its own layer and those below):

    0  errors, checks                      what everything may raise and check
    1  nn/, datasets, splits               the seed's math and the data, NumPy only
    2  train/ but fit, gradcheck           optimizers, penalties, schedules, the job, callbacks
    3  engines/                            where epochs run (reads a job, runs the math)
    4  train/driver                        the driver: asks an engine for blocks of epochs
    5  io/, diagnostics, summary, progress, trace/   files, and reading a network or a run
    6  experiments/, export/, plot, sklearn, codegen   what is built on training
    7  cli/, playground/, the mlplab package itself    what a person uses

Imports are read from the source (module level, inside functions and under
``TYPE_CHECKING`` alike). The upward calls allowed are the user-facing conveniences
named in ``ALLOWED_UPWARD``, each a lazy import inside that one function. Importing
``a.b.c`` runs the packages ``a.b``'s ``__init__`` first: the cycle test counts that too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "mlplab"

LAYERS = {
    "mlplab.errors": 0,
    "mlplab.checks": 0,
    "mlplab.nn": 1,
    "mlplab.datasets": 1,
    "mlplab.splits": 1,
    "mlplab.train": 2,
    "mlplab.gradcheck": 2,
    "mlplab.engines": 3,
    "mlplab.train.driver": 4,
    "mlplab.io": 5,
    "mlplab.diagnostics": 5,
    "mlplab.summary": 5,
    "mlplab.trace": 5,
    "mlplab.progress": 5,
    "mlplab.experiments": 6,
    "mlplab.export": 6,
    "mlplab.plot": 6,
    "mlplab.sklearn": 6,
    "mlplab.codegen": 6,
    "mlplab.cli": 7,
    "mlplab.playground": 7,
    "mlplab": 7,
    "mlplab.__main__": 7,
}

# (module, function) -> the modules it may import lazily, above its layer
ALLOWED_UPWARD = {
    # the types in MLP.fit's signature, under TYPE_CHECKING
    ("mlplab.nn.network", None): {"mlplab.train.optimizers", "mlplab.train.callbacks",
                                  "mlplab.train.history", "mlplab.trace"},
    ("mlplab.nn.network", "fit"): {"mlplab.train.driver"},
    ("mlplab.nn.network", "trace"): {"mlplab.trace"},
    ("mlplab.nn.network", "save"): {"mlplab.io.models"},
    ("mlplab.nn.network", "load"): {"mlplab.io.models"},
    ("mlplab.nn.network", "from_torch"): {"mlplab.export"},
    ("mlplab.nn.network", "summary"): {"mlplab.summary"},
    ("mlplab.nn.network", "_repr_html_"): {"mlplab.summary"},
    ("mlplab.train.history", "plot"): {"mlplab.plot"},
    # the train package offers the driver too, imported when first asked for
    ("mlplab.train", "__getattr__"): {"mlplab.train.driver"},
}

MAX_TOP_LEVEL_MODULES = 14
OPTIMIZER_MODULE = "mlplab.train.optimizers"  # the one place a learning rate is written
MAX_FUNCTION_LINES = 60
MAX_PARAMETERS = 10


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> int:
    while module not in LAYERS:
        module = module.rpartition(".")[0]
    return LAYERS[module]


def sources() -> dict[str, ast.Module]:
    return {module_name(p): ast.parse(p.read_text(), str(p)) for p in sorted(SRC.rglob("*.py"))}


def imports(module: str, tree: ast.Module):
    """``(imported module, enclosing function or None, at module level at run time)``."""
    package = module if (SRC.parent / module.replace(".", "/") / "__init__.py").exists() else (
        module.rpartition(".")[0]
    )

    def visit(node: ast.AST, function: str | None, runtime: bool):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                yield from visit(child, function or child.name, False)
            elif isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                yield from visit(child, function, False)
            elif isinstance(child, ast.Import):
                for alias in child.names:
                    yield alias.name, function, runtime
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    up = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join([*up, base] if base else up)
                for alias in child.names:
                    if base == "mlplab" and alias.name == "__version__":
                        continue  # a constant of the package, which is always imported first
                    candidate = f"{base}.{alias.name}"
                    known = (SRC.parent / (candidate.replace(".", "/") + ".py")).exists() or (
                        SRC.parent / candidate.replace(".", "/") / "__init__.py"
                    ).exists()
                    yield (candidate if known else base), function, runtime
            else:
                yield from visit(child, function, runtime)

    yield from visit(tree, None, True)


@pytest.fixture(scope="module")
def trees() -> dict[str, ast.Module]:
    return sources()


def test_every_module_has_a_layer(trees):
    for module in trees:
        assert layer_of(module) >= 0, module


def test_imports_go_downward_except_the_named_conveniences(trees):
    upward = []
    for module, tree in trees.items():
        for target, function, _ in imports(module, tree):
            if not target.startswith("mlplab") or layer_of(target) <= layer_of(module):
                continue
            if target in ALLOWED_UPWARD.get((module, function), ()):
                continue
            upward.append(f"{module} ({function or 'module level'}) imports {target}")
    assert not upward, "imports against the layering:\n" + "\n".join(upward)


def test_the_allowed_upward_calls_exist(trees):
    for (module, function), targets in ALLOWED_UPWARD.items():
        found = {t for t, f, _ in imports(module, trees[module]) if f == function}
        assert targets <= found, (module, function)


def packages_above(module: str) -> list[str]:
    """The packages whose ``__init__`` importing ``module`` runs first (the root ``mlplab``,
    always imported first, aside)."""
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(2, len(parts))]


def test_no_import_cycle_at_run_time(trees):
    """Every import that can run counts, lazy ones inside functions too (a package's
    ``__init__`` importing a module that imports the package back is a cycle), except the
    named user-facing conveniences of ``ALLOWED_UPWARD``."""
    graph = {
        module: {
            found
            for t, function, runtime in imports(module, tree)
            if (runtime or function is not None)
            and t not in ALLOWED_UPWARD.get((module, function), ())
            for found in (*packages_above(t), t)
            if found in trees and found != module and not module.startswith(found + ".")
        }
        for module, tree in trees.items()
    }
    state: dict[str, int] = {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in graph[module]:
            if state.get(target) == 1:
                cycle = [*path[path.index(target) :], target] if target in path else [target]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in graph:
        if module not in state:
            visit(module, [module])


def test_the_engines_sit_between_the_job_and_the_driver():
    assert layer_of("mlplab.train.job") < layer_of("mlplab.engines.numpy")
    assert layer_of("mlplab.train.optimizers") < layer_of("mlplab.engines.jax")
    assert layer_of("mlplab.engines.base") < layer_of("mlplab.train.driver")


def test_the_package_top_holds_few_modules():
    top = sorted(p.name for p in SRC.glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL_MODULES, top


def test_no_function_is_longer_than_a_screen(trees):
    long = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(SRC)}:{node.lineno} {node.name} ({lines})")
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines:\n" + "\n".join(long)


# (module, qualified name) -> why it may take more than MAX_PARAMETERS parameters: the public
# entry points that mirror scikit-learn's or Keras's signatures
MANY_PARAMETERS_ALLOWED = {
    ("mlplab.train.driver", "fit"): "MLP.fit's options, Keras-style",
    ("mlplab.sklearn._base", "BaseMLP.__init__"): "scikit-learn's MLPClassifier parameters",
    ("mlplab.nn.network", "MLP.__init__"): "the network, as Keras's layers take their settings",
}


def functions(tree: ast.Module):
    """``(qualified name, node)`` of every function, methods as ``Class.name``."""

    def visit(node: ast.AST, prefix: str):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                yield f"{prefix}{child.name}", child
                yield from visit(child, f"{prefix}{child.name}.")
            elif isinstance(child, ast.ClassDef):
                yield from visit(child, f"{prefix}{child.name}.")
            else:
                yield from visit(child, prefix)

    yield from visit(tree, "")


def parameter_count(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Named parameters, ``self``/``cls`` aside (``*args``/``**kwargs`` count as one each)."""
    a = node.args
    names = [*a.posonlyargs, *a.args, *a.kwonlyargs]
    if names and names[0].arg in ("self", "cls"):
        names = names[1:]
    return len(names) + (a.vararg is not None) + (a.kwarg is not None)


def test_no_function_takes_more_than_ten_parameters(trees):
    many = [
        f"{module}.{name} ({parameter_count(node)})"
        for module, tree in trees.items()
        for name, node in functions(tree)
        if parameter_count(node) > MAX_PARAMETERS
        and (module, name) not in MANY_PARAMETERS_ALLOWED
    ]
    assert not many, f"functions over {MAX_PARAMETERS} parameters:\n" + "\n".join(many)


def test_the_allowed_long_signatures_exist(trees):
    for module, name in MANY_PARAMETERS_ALLOWED:
        assert name in dict(functions(trees[module])), (module, name)


def calls_to(tree: ast.Module, name: str) -> list[int]:
    """Lines calling the builtin ``name``."""
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name
    ]


def test_the_library_never_prints(trees):
    """What a person sees is the command line's (scikit-learn's ``verbose=True`` output aside)."""
    printing = [
        f"{module}:{line}"
        for module, tree in trees.items()
        if not module.startswith(("mlplab.cli", "mlplab.sklearn"))
        for line in calls_to(tree, "print")
    ]
    assert not printing, "print outside the command line:\n" + "\n".join(printing)


def test_only_the_optimizers_write_a_learning_rate(trees):
    writes = [
        f"{module}:{node.lineno}"
        for module, tree in trees.items()
        if module != OPTIMIZER_MODULE
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign)
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Attribute) and target.attr in ("lr", "learning_rate_")
    ]
    assert not writes, "learning rates written outside the optimizers:\n" + "\n".join(writes)


# the elementwise functions of activations, losses, penalties and optimizers: the math
# lives in nn/ and the optimizer module, and the engines and the playground run it
FORMULA_FUNCTIONS = {"exp", "expm1", "log", "log1p", "logaddexp", "tanh", "sqrt", "sign",
                     "maximum", "sigmoid", "softmax"}  # fmt: skip


def test_no_formula_under_the_engines_or_the_playground(trees):
    found = [
        f"{module}:{node.lineno} {node.func.attr}"
        for module, tree in trees.items()
        if module.startswith(("mlplab.engines", "mlplab.playground"))
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in FORMULA_FUNCTIONS
    ]
    assert not found, "formulas outside the math:\n" + "\n".join(found)
