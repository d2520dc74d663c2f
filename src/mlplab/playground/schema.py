"""Every message a page may send, as pydantic models with limits.

A message is a JSON object with a ``type``; anything else (unknown types or
fields, values out of range, oversized text) is refused with a one-line reason
in the page's own words ("a weight must be between -100 and 100"). A link's
fields are checked one by one: the valid ones are kept and the others named.
The menus' choices come from mlplab's name tables, so they never drift.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from mlplab.datasets import DATASETS
from mlplab.nn.activations import hidden_activation_names
from mlplab.playground.features import FEATURES
from mlplab.playground.regression import REGRESSION_SETS

__all__ = [
    "LIMITS",
    "Message",
    "MessageError",
    "Settings",
    "choices",
    "describe",
    "parse_message",
    "settings_from_link",
]

LIMITS = {
    "layers": 6,  # hidden layers
    "neurons": 8,  # per hidden layer
    "points": 1000,  # generated or uploaded points
    "message_bytes": 131072,  # one client message (a CSV upload is the largest)
    "lr": 10.0,
    "reg_rate": 10.0,
    "weight": 100.0,  # a weight typed into a link
    "code_epochs": 10000,
    "link_fields": 40,  # fields in a link's fragment
}

# the seed's four XOR points, the 2-D sets (the other gates add nothing to see), and
# TensorFlow Playground's two regression sets
CLASSIFICATION_SETS = ["circle", "xor2d", "gaussians", "spiral", "moons", "spiral3", "gaussians3",
                       "xor"]  # fmt: skip
REGRESSION_NAMES = list(REGRESSION_SETS)
DATASET_NAMES = CLASSIFICATION_SETS + REGRESSION_NAMES
UPLOAD = "upload"
LEARNING_RATES = [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0]
REG_RATES = [0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0]
REGULARIZATIONS = ["none", "L1", "L2"]
PROBLEMS = ["classification", "regression"]
PREVIEW_POINTS = 100  # points in each data set's thumbnail

Dataset = Literal[tuple([*DATASET_NAMES, UPLOAD])]  # type: ignore[valid-type]
FeatureName = Literal[tuple(FEATURES)]  # type: ignore[valid-type]
ActivationName = Literal[tuple(hidden_activation_names())]  # type: ignore[valid-type]
Neurons = Annotated[int, Field(ge=1, le=LIMITS["neurons"])]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Settings(_Strict):
    """Every control on the page; the URL holds the same fields."""

    dataset: Dataset = "circle"
    noise: float = Field(0.0, ge=0.0, le=0.5)
    train_ratio: float = Field(0.5, ge=0.1, le=0.9)
    points: int = Field(500, ge=10, le=LIMITS["points"])
    data_seed: int = Field(0, ge=0, le=2**31 - 1)
    features: tuple[FeatureName, ...] = Field(("x1", "x2"), min_length=1)
    hidden: tuple[Neurons, ...] = Field((4, 2), max_length=LIMITS["layers"])
    activation: ActivationName = "tanh"
    lr: float = Field(0.03, gt=0.0, le=LIMITS["lr"])
    batch_size: int = Field(10, ge=1, le=LIMITS["points"])
    regularization: Literal[tuple(REGULARIZATIONS)] = "none"  # type: ignore[valid-type]
    reg_rate: float = Field(0.0, ge=0.0, le=LIMITS["reg_rate"])
    problem: Literal[tuple(PROBLEMS)] = "classification"  # type: ignore[valid-type]
    seed: int = Field(1, ge=0, le=2**31 - 1)
    show_test: bool = False  # the page draws the test points too
    discretize: bool = False  # the page draws the output as its classes, not shades

    @field_validator("features")
    @classmethod
    def _unique(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(v)) != len(v):
            raise ValueError("a feature may be chosen only once")
        return v


class Configure(_Strict):
    type: Literal["config"]
    settings: Settings


class Link(_Strict):
    """The fields of a link's fragment, as text: the valid ones are applied."""

    type: Literal["link"]
    fields: dict[Annotated[str, Field(max_length=40)], Annotated[str, Field(max_length=400)]] = (
        Field(max_length=LIMITS["link_fields"])
    )


class Command(_Strict):
    type: Literal["play", "pause", "step", "reset", "rewind", "regenerate"]


class SetWeight(_Strict):
    """A weight typed into a link: ``source`` is the unit below, -1 for the bias."""

    type: Literal["set_weight"]
    layer: int = Field(ge=0, le=LIMITS["layers"])
    source: int = Field(ge=-1, le=max(LIMITS["neurons"], len(FEATURES)) - 1)
    target: int = Field(ge=0, le=LIMITS["neurons"] - 1)
    value: float = Field(ge=-LIMITS["weight"], le=LIMITS["weight"], allow_inf_nan=False)


class Upload(_Strict):
    type: Literal["upload"]
    csv: str = Field(max_length=LIMITS["message_bytes"])
    name: str = Field("points.csv", max_length=200)


class ShowCode(_Strict):
    type: Literal["code"]
    epochs: int = Field(1000, ge=0, le=LIMITS["code_epochs"])


class TraceStep(_Strict):
    """Step through: pause, take the next training step traced line by line, and send it."""

    type: Literal["trace"]


class InspectUnit(_Strict):
    """A hovered unit: diagram ``column`` (0: the inputs), ``unit``, at the point ``(x1, x2)``."""

    type: Literal["inspect_unit"]
    column: int = Field(ge=0, le=LIMITS["layers"] + 1)
    unit: int = Field(ge=0, le=max(LIMITS["neurons"], len(FEATURES)) - 1)
    x1: float = Field(ge=-1e6, le=1e6, allow_inf_nan=False)
    x2: float = Field(ge=-1e6, le=1e6, allow_inf_nan=False)


class InspectLink(_Strict):
    """A hovered link: its weight and last gradient (``source = -1``: the bias)."""

    type: Literal["inspect_link"]
    layer: int = Field(ge=0, le=LIMITS["layers"])
    source: int = Field(ge=-1, le=max(LIMITS["neurons"], len(FEATURES)) - 1)
    target: int = Field(ge=0, le=LIMITS["neurons"] - 1)


MODELS = (Configure, Link, Command, SetWeight, Upload, ShowCode, TraceStep, InspectUnit,
          InspectLink)  # fmt: skip
Message = Annotated[
    Configure | Link | Command | SetWeight | Upload | ShowCode | TraceStep | InspectUnit
    | InspectLink,
    Field(discriminator="type"),
]
_ADAPTER: TypeAdapter[Any] = TypeAdapter(Message)
TAGS: dict[str, type[BaseModel]] = {
    tag: m for m in MODELS for tag in m.model_fields["type"].annotation.__args__
}


MAX_DIGITS = sys.get_int_max_str_digits()  # Python's limit on an integer's digits


class MessageError(ValueError):
    """A client message that is refused; the text is shown to the user."""


def parse_message(text: str | bytes | None) -> Any:
    """Validate one raw WebSocket message, or raise ``MessageError`` saying why not."""
    if not isinstance(text, str):
        raise MessageError("messages must be JSON text, not binary")
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > LIMITS["message_bytes"]:
        raise MessageError(
            f"message too large: {size} bytes; the limit is {LIMITS['message_bytes']}"
        )
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise MessageError(f"message is not valid JSON: {e}") from None
    except RecursionError:
        raise MessageError("message is nested too deeply to be one of the page's") from None
    except ValueError:  # an integer of more digits than Python converts (sys.int_info)
        raise MessageError(
            f"message holds a number too long to read (over {MAX_DIGITS} digits)"
        ) from None
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as e:
        raise MessageError(describe(e)) from None
    except RecursionError:
        raise MessageError("message is nested too deeply to be one of the page's") from None


# --- errors in the page's words -------------------------------------------------------

WORDS = {
    "dataset": "the data set",
    "noise": "the noise",
    "train_ratio": "the training share",
    "points": "the number of points",
    "data_seed": "the data seed",
    "features": "the features",
    "hidden": "the hidden layers",
    "activation": "the activation",
    "lr": "the learning rate",
    "batch_size": "the batch size",
    "regularization": "the regularization",
    "reg_rate": "the regularization rate",
    "problem": "the problem type",
    "seed": "the seed",
    "show_test": "Show test data",
    "discretize": "Discretize output",
    "layer": "the layer of a weight",
    "source": "the unit a weight comes from",
    "target": "the unit a weight goes to",
    "value": "a weight",
    "epochs": "the program's epochs",
    "csv": "the file",
    "name": "the file's name",
    "fields": "a link",
    "settings": "the settings",
    "column": "the column of a unit",
    "unit": "a unit",
    "x1": "the point's x1",
    "x2": "the point's x2",
}
_NUMBER_ERRORS = {"greater_than", "greater_than_equal", "less_than", "less_than_equal",
                  "finite_number", "float_parsing", "int_parsing", "int_from_float",
                  "float_type", "int_type"}  # fmt: skip


def _field(model: type[BaseModel] | None, name: str) -> Any:
    for m in (model, Settings):
        if m is not None and name in m.model_fields:
            return m.model_fields[name]
    return None


def _range(info: Any) -> str:
    """``between 0 and 0.5`` from a field's limits."""
    bounds = {type(m).__name__: getattr(m, type(m).__name__.lower(), None) for m in info.metadata}
    fmt = "{:g}".format
    lo = f"above {fmt(bounds['Gt'])}" if "Gt" in bounds else None
    if lo and "Le" in bounds:
        return f"{lo} and at most {fmt(bounds['Le'])}"
    if "Ge" in bounds and "Le" in bounds:
        return f"between {fmt(bounds['Ge'])} and {fmt(bounds['Le'])}"
    return "a number"


def _one(err: Any, model: type[BaseModel] | None) -> str:
    kind, ctx = err["type"], err.get("ctx", {})
    names = [p for p in err["loc"] if isinstance(p, str)]
    tag = names.pop(0) if names and names[0] in TAGS else None
    if len(names) > 1 and names[0] == "settings":
        names = names[1:]
    name = names[-1] if names else "message"
    noun = WORDS.get(name, repr(name))
    if tag == "link" and len(names) > 1:
        noun = f"the link's field {name}"
    if kind in _NUMBER_ERRORS and name == "hidden":
        n = LIMITS["neurons"]
        return f"a hidden layer must have between 1 and {n} neurons"
    if kind in _NUMBER_ERRORS:
        info = _field(model, name)
        return f"{noun} must be {_range(info) if info else 'a number'}"
    if kind == "too_long" and name == "hidden":
        return f"a network may have at most {LIMITS['layers']} hidden layers"
    if kind == "too_short" and name == "features":
        return "choose at least one input feature"
    if kind == "literal_error":
        return f"{noun} must be one of {ctx.get('expected', '')}"
    if kind == "extra_forbidden" and tag not in (None, "config", "link"):
        return f"{name!r} is not part of a {tag} message"
    if kind == "extra_forbidden":
        return f"{name!r} is not a setting the page knows"
    if kind == "union_tag_invalid":
        return f"unknown message type {ctx.get('tag')!r}; expected {ctx.get('expected_tags')}"
    if kind in ("union_tag_not_found", "model_type", "dict_type", "model_attributes_type"):
        return "a message must be a JSON object with a type"
    if kind == "missing":
        return f"{noun} {'are' if noun.endswith('settings') else 'is'} missing"
    if kind in ("bool_parsing", "bool_type"):
        return f"{noun} must be true or false"
    if kind == "string_type":
        return f"{noun} must be text"
    if kind == "string_too_long":
        return f"{noun} is too long (at most {ctx.get('max_length')} characters)"
    if kind == "too_long":
        return f"{noun} has too many items (at most {ctx.get('max_length')})"
    if kind == "value_error":
        return str(ctx.get("error", err["msg"]))
    return f"{noun}: {err['msg']}"


def describe(error: ValidationError, model: type[BaseModel] | None = None) -> str:
    """A validation error as one line in the page's words."""
    if model is None:
        tag = next((e["loc"][0] for e in error.errors() if e["loc"]), None)
        model = TAGS.get(tag) if isinstance(tag, str) else None
    parts = list(dict.fromkeys(_one(err, model) for err in error.errors()[:3]))
    return "; ".join(parts)


# --- links ----------------------------------------------------------------------------

_LISTS = ("features", "hidden")


def _from_text(name: str, text: str) -> Any:
    """A fragment's text as the value pydantic checks (lists split at commas)."""
    if name in _LISTS:
        return [] if text == "" else text.split(",")
    return text


def settings_from_link(fields: dict[str, str]) -> tuple[Settings, list[str]]:
    """The link's valid fields over the defaults, and one note per field ignored."""
    chosen = Settings().model_dump()
    ignored = []
    for name, text in fields.items():
        if name not in Settings.model_fields:
            ignored.append(f"{name} (not a setting)")
            continue
        trial = {**chosen, name: _from_text(name, text)}
        try:
            chosen = Settings.model_validate(trial).model_dump()
        except ValidationError as e:
            ignored.append(f"{name}={text[:40]} ({describe(e, Settings)})")
    return Settings.model_validate(chosen), ignored


def _preview(name: str) -> list[list[float]]:
    """A few points of a data set as ``[x1, x2, label]`` rows, for its thumbnail."""
    if name in REGRESSION_SETS:
        points, labels = REGRESSION_SETS[name](PREVIEW_POINTS, 0.0, 0)
    else:
        X, t = DATASETS[name](PREVIEW_POINTS, 0.0, 0)
        points, labels = X[:, :2], (t.argmax(axis=1) if t.shape[1] > 1 else t[:, 0])
    rows = __import__("numpy").column_stack([points, labels])
    return [[round(float(v), 2) for v in row] for row in rows]


def _dataset_choice(name: str) -> dict[str, Any]:
    if name in REGRESSION_SETS:
        return {"name": name, "description": REGRESSION_SETS[name].description, "classes": 0,
                "problem": "regression", "preview": _preview(name)}  # fmt: skip
    d = DATASETS[name]
    return {"name": name, "description": d.description, "classes": d.classes,
            "problem": "classification", "preview": _preview(name)}  # fmt: skip


def choices() -> dict[str, Any]:
    """The menus and limits the page builds its controls from (the app keeps them)."""
    return {
        "datasets": [_dataset_choice(n) for n in DATASET_NAMES],
        "features": [{"name": f.name, "label": f.label} for f in FEATURES.values()],
        "activations": hidden_activation_names(),
        "learning_rates": LEARNING_RATES,
        "reg_rates": REG_RATES,
        "regularizations": REGULARIZATIONS,
        "problems": PROBLEMS,
        "limits": LIMITS,
        "defaults": Settings().model_dump(mode="json"),
    }
