"""Shipped model shapes and GPUs: the presets of ``llmsym calc`` and of worked examples.

Bottom layer (no SymPy, no NumPy): derivation files read presets for their
worked examples, and the check cache hashes ``data/*.json`` with the engine, so
editing a preset re-checks what depends on it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from .errors import UnknownName, UserError

DATA = Path(__file__).resolve().parent / "data"
DTYPE_BYTES = {"fp32": 4, "bf16": 2, "fp16": 2, "fp8": 1}
DEFAULT_GPU = "h100-sxm"
ADAM_GRAD_BYTES = {"adam_mixed": 2, "adam_mixed_fp32_grads": 4, "adam_mixed_grad_buffer": 6}

# --- Model configurations ------------------------------------------------------

CHOICES = {"ffn": ("gelu", "swiglu"), "norm": ("layernorm", "rmsnorm"),
           "positional": ("learned", "rope")}
INFO_FIELDS = ("name", "source", "params_published")


@dataclass(frozen=True)
class ModelConfig:
    """The shape of a decoder, as in a config file or a preset."""

    n_layers: int
    d_model: int
    n_heads: int
    n_kv_heads: int
    d_ff: int
    vocab_size: int
    ffn: str
    tie_embeddings: bool
    bias: bool
    norm: str
    positional: str
    max_positions: int
    name: str = ""
    source: str = ""
    params_published: int | None = None

    @property
    def d_head(self) -> int:
        return self.d_model // self.n_heads

    def sizes(self) -> dict[str, int]:
        """Keywords of the FLOP, cache and roofline closed forms."""
        return dict(n_layers=self.n_layers, d_model=self.d_model, n_heads=self.n_heads,
                    n_kv_heads=self.n_kv_heads, d_head=self.d_head, d_ff=self.d_ff,
                    vocab_size=self.vocab_size, ffn_matrices=3 if self.ffn == "swiglu" else 2,
                    bias=int(self.bias))

    def param_sizes(self) -> dict[str, int]:
        """Keywords of the parameter count: sizes and 0/1 indicators."""
        return dict(self.sizes(), max_positions=self.max_positions,
                    norm_vectors=2 if self.norm == "layernorm" else 1,
                    tied=int(self.tie_embeddings),
                    learned_positions=int(self.positional == "learned"))


REQUIRED = tuple(f.name for f in fields(ModelConfig) if f.name not in INFO_FIELDS)
LLMSYM_FIELDS_HINT = ", ".join(REQUIRED)
INT_FIELDS = tuple(f.name for f in fields(ModelConfig) if f.type == "int")


def _field_error(name: str, problem: str) -> UserError:
    return UserError(f"config field '{name}': {problem}")


def _check_value(name: str, value: Any) -> None:
    if name in INT_FIELDS:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _field_error(name, f"must be a positive integer, not {value!r}")
        if value <= 0:
            raise _field_error(name, f"must be positive, not {value}")
    elif name in CHOICES and value not in CHOICES[name]:
        raise _field_error(name, f"must be one of {', '.join(CHOICES[name])}, not {value!r}")
    elif name in ("tie_embeddings", "bias") and not isinstance(value, bool):
        raise _field_error(name, f"must be true or false, not {value!r}")


def config_from_dict(data: Any, origin: str = "config") -> ModelConfig:
    """Validate a config mapping; every problem names its field."""
    if not isinstance(data, dict):
        raise UserError(f"{origin}: expected a JSON object with the fields {', '.join(REQUIRED)}")
    unknown = sorted(set(data) - set(REQUIRED) - set(INFO_FIELDS))
    if unknown:
        raise _field_error(unknown[0], f"unknown field (expected {', '.join(REQUIRED)})")
    for name in REQUIRED:
        if name not in data:
            raise _field_error(name, f"missing from {origin}")
        _check_value(name, data[name])
    if data["d_model"] % data["n_heads"]:
        raise _field_error("n_heads",
                           f"{data['n_heads']} does not divide d_model = {data['d_model']}")
    if data["n_heads"] % data["n_kv_heads"]:
        raise _field_error("n_kv_heads",
                           f"{data['n_kv_heads']} does not divide n_heads = {data['n_heads']}")
    return ModelConfig(**data)


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text())
    except OSError as exc:
        raise UserError(f"cannot read {what} {str(path)!r}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise UserError(f"{what} {str(path)!r} is not valid JSON: {exc}") from None


def _named(table: dict[str, Any], kind: str, name: str) -> dict[str, Any]:
    entries = {k: v for k, v in table.items() if not k.startswith("_")}
    if name not in entries:
        raise _unknown(kind, name, list(entries))
    return entries[name]


def _unknown(kind: str, name: str, known: list[str]) -> UserError:
    """An unknown name: the closest ones if any, and always the full list."""
    close = UnknownName(kind, name, known).matches
    hint = f"did you mean {', '.join(close)}? " if close else ""
    return UserError(f"unknown {kind} {name!r}; {hint}choose from {', '.join(known)}")


def llmsym_presets() -> dict[str, Any]:
    """Presets in llmsym's own config format (``presets.json``)."""
    return {k: v for k, v in _read_json(DATA / "presets.json", "preset file").items()
            if not k.startswith("_")}


def hf_presets() -> dict[str, Any]:
    """Presets holding a checkpoint's Hugging Face ``config.json`` (``hf_presets.json``)."""
    return {k: v for k, v in _read_json(DATA / "hf_presets.json", "preset file").items()
            if not k.startswith("_")}


def presets() -> dict[str, Any]:
    """Every shipped preset by name: llmsym's format and Hugging Face configs."""
    return {**llmsym_presets(), **hf_presets()}


def load_preset(name: str) -> ModelConfig:
    """A shipped preset in llmsym's format by name (``gpt2``, ``llama-2-7b``, ...)."""
    return config_from_dict(_named(llmsym_presets(), "preset", name), f"preset {name}")


def load_config_file(path: str | Path) -> ModelConfig:
    """A config from a JSON file with the fields of :class:`ModelConfig`."""
    return config_from_dict(_read_json(Path(path), "config file"), f"config file {str(path)!r}")


@dataclass(frozen=True)
class Gpu:
    """Peak dense matrix throughput per element format (FLOP/s), memory bandwidth (bytes/s)
    and memory (bytes, the datasheet's GB of 10^9 bytes)."""

    key: str
    name: str
    peak_flops: dict[str, float]
    bandwidth: float
    source: str
    memory: float


def gpus() -> dict[str, Any]:
    return {k: v for k, v in _read_json(DATA / "gpus.json", "GPU file").items()
            if not k.startswith("_")}


def load_gpu(name: str) -> Gpu:
    entry = _named(gpus(), "GPU", name)
    return Gpu(name, entry["name"], entry["peak_flops"], entry["bandwidth"], entry["source"],
               entry["memory"])
