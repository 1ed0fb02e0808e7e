"""Pipeline config files (YAML): which stages run, in which order, with which parameters.

```yaml
name: demo
run: {workers: 2}
stages:
  - name: ingest                # instance name (unique); `uses:` defaults to it
    params: {sources: [{path: ../data/reports.csv}]}
  - name: reports
    after: [ingest]             # defaults to the previous stage
```

`${VAR}` and `${VAR:-default}` are expanded from the environment; relative paths in
parameters resolve against the directory of the config file.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pipelines.registry import resolve_stage
from pipelines.stage import Stage, StageParams

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class ConfigError(ValueError):
    """A config file that cannot run; the message names the file, stage and field."""


class RunOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    workers: int = Field(default=1, ge=1, description="Worker processes for CPU stages.")
    concurrency: int = Field(default=16, ge=1, description="Requests in flight for I/O stages.")
    flush_every: int = Field(default=200, ge=1, description="Cases per Parquet part.")
    flush_seconds: float = Field(default=10.0, gt=0, description="Longest wait before a part is written.")


class StageSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    uses: str | None = None
    after: list[str] | None = None
    params: dict[str, Any] = Field(default_factory=dict)


class RawConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = "pipeline"
    run: RunOptions = Field(default_factory=RunOptions)
    stages: list[StageSpec] = Field(min_length=1)


@dataclass(frozen=True)
class ResolvedStage:
    name: str
    uses: str
    cls: type[Stage]
    params: StageParams
    after: tuple[str, ...]


@dataclass(frozen=True)
class PipelineConfig:
    name: str
    run: RunOptions
    stages: tuple[ResolvedStage, ...]
    text: str
    base_dir: Path

    def stage(self, name: str) -> ResolvedStage:
        for s in self.stages:
            if s.name == name:
                return s
        raise KeyError(name)

    def dependants(self, name: str) -> set[str]:
        """Stages that read `name`'s output, directly or through others."""
        found: set[str] = set()
        changed = True
        while changed:
            changed = False
            for s in self.stages:
                if s.name not in found and (name in s.after or found.intersection(s.after)):
                    found.add(s.name)
                    changed = True
        return found


def expand_env(text: str) -> str:
    def repl(match: re.Match[str]) -> str:
        var, default = match.group(1), match.group(2)
        value = os.environ.get(var)
        if value is None or value == "":
            if default is None:
                raise ConfigError(f"environment variable ${{{var}}} is not set and has no default")
            return default
        return value

    return _ENV.sub(repl, text)


def _field_errors(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}" for err in exc.errors())


def load_config(path: Path) -> PipelineConfig:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc}") from exc
    return parse_config(text, base_dir=path.resolve().parent, origin=str(path))


def parse_config(text: str, base_dir: Path, origin: str = "<config>") -> PipelineConfig:
    try:
        data = yaml.safe_load(expand_env(text))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{origin}: not valid YAML: {exc}") from exc
    try:
        raw = RawConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{origin}: {_field_errors(exc)}") from exc

    resolved: list[ResolvedStage] = []
    seen: set[str] = set()
    for index, spec in enumerate(raw.stages):
        where = f"{origin}: stage {spec.name!r}"
        if spec.name in seen:
            raise ConfigError(f"{where}: duplicate stage name")
        uses = spec.uses or spec.name
        try:
            cls = resolve_stage(uses)
        except ValueError as exc:
            raise ConfigError(f"{where}: {exc}") from exc
        try:
            params = cls.Params.model_validate(spec.params, context={"base_dir": base_dir})
        except ValidationError as exc:
            raise ConfigError(f"{where}: params: {_field_errors(exc)}") from exc
        default_after = () if index == 0 else (resolved[-1].name,)
        after = default_after if spec.after is None else tuple(spec.after)
        for upstream in after:
            if upstream not in seen:
                raise ConfigError(f"{where}: 'after' names {upstream!r}, which is not an earlier stage")
        if index == 0 and (after or cls.scope == "run"):
            raise ConfigError(f"{where}: the first stage must be a source stage (after: []) that lists the cases")
        if index > 0 and not after and cls.scope != "run":
            raise ConfigError(f"{where}: only the first stage and run-scope stages may have no upstream (after: [])")
        resolved.append(ResolvedStage(spec.name, uses, cls, params, after))
        seen.add(spec.name)
    return PipelineConfig(raw.name, raw.run, tuple(resolved), text, base_dir)
