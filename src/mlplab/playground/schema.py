"""Every message a page may send, as pydantic models with limits.

A message is a JSON object with a ``type``; anything else (unknown types or
fields, values out of range, oversized text) is refused with a one-line reason.
The menus' choices come from mlplab's name tables, so they never drift.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from mlplab.datasets import DATASETS
from mlplab.nn.activations import hidden_activation_names
from mlplab.playground.features import FEATURES

__all__ = ["LIMITS", "Message", "MessageError", "Settings", "choices", "parse_message"]

LIMITS = {
    "layers": 6,  # hidden layers
    "neurons": 8,  # per hidden layer
    "points": 1000,  # generated or uploaded points
    "message_bytes": 131072,  # one client message (a CSV upload is the largest)
    "lr": 10.0,
    "reg_rate": 10.0,
    "weight": 100.0,  # a weight typed into a link
    "code_epochs": 10000,
}

# the seed's four XOR points and the 2-D sets (the other gates add nothing to see)
DATASET_NAMES = ["circle", "xor2d", "gaussians", "spiral", "moons", "spiral3", "gaussians3", "xor"]
UPLOAD = "upload"
LEARNING_RATES = [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0]
REG_RATES = [0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0]
REGULARIZATIONS = ["none", "L1", "L2"]
PROBLEMS = ["classification", "regression"]

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

    @field_validator("features")
    @classmethod
    def _unique(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(v)) != len(v):
            raise ValueError("features must not repeat")
        return v


class Configure(_Strict):
    type: Literal["config"]
    settings: Settings


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


Message = Annotated[
    Configure | Command | SetWeight | Upload | ShowCode, Field(discriminator="type")
]
_ADAPTER: TypeAdapter[Any] = TypeAdapter(Message)


class MessageError(ValueError):
    """A client message that is refused; the text is shown to the user."""


def parse_message(text: str | bytes | None) -> Configure | Command | SetWeight | Upload | ShowCode:
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
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as e:
        raise MessageError(f"bad message: {_describe(e)}") from None


def _describe(error: ValidationError) -> str:
    parts = []
    for err in error.errors()[:3]:
        where = ".".join(str(p) for p in err["loc"]) or "message"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def choices() -> dict[str, Any]:
    """The menus and limits the page builds its controls from."""
    return {
        "datasets": [
            {"name": n, "description": DATASETS[n].description, "classes": DATASETS[n].classes}
            for n in DATASET_NAMES
        ],
        "features": [{"name": f.name, "label": f.label} for f in FEATURES.values()],
        "activations": hidden_activation_names(),
        "learning_rates": LEARNING_RATES,
        "reg_rates": REG_RATES,
        "regularizations": REGULARIZATIONS,
        "problems": PROBLEMS,
        "limits": LIMITS,
        "defaults": Settings().model_dump(mode="json"),
    }
