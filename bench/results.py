"""One figure of a run and the files a run writes (latest.json, latest.md)."""
import json
import platform
import statistics
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Figure:
    """name, value, unit, target, baseline as in latest.json; ``higher`` says which way is better;
    ``detail`` (repetitions, checks, why not measured) goes to the markdown only."""

    name: str
    value: float | None
    unit: str
    target: float | None
    baseline: float | None = None
    higher: bool = False
    detail: str = ""
    extra_checks: list = field(default_factory=list)  # [bool]: correctness conditions that must also hold

    @property
    def ratio(self):
        if self.value is None or self.baseline is None or not self.value or not self.baseline:
            return None
        return round(self.value / self.baseline if self.higher else self.baseline / self.value, 2)

    @property
    def met(self):
        if self.value is None or self.target is None:
            return False
        ok = self.value >= self.target if self.higher else self.value <= self.target
        return bool(ok and all(self.extra_checks))

    def as_json(self):
        return {"name": self.name, "value": _round(self.value), "unit": self.unit, "target": self.target,
                "baseline": _round(self.baseline), "ratio": self.ratio, "met": self.met}


def _round(value):
    if value is None:
        return None
    return round(value, 4) if abs(value) < 100 else round(value, 1)


def median(values):
    return statistics.median(values) if values else None


def p95(values):
    """Nearest-rank 95th percentile."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, -(-95 * len(ordered) // 100) - 1)]


def machine():
    cpus = 0
    try:
        cpus = len([line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("processor")])
        memory_kb = int(next(line for line in Path("/proc/meminfo").read_text().splitlines()
                             if line.startswith("MemTotal")).split()[1])
        memory = f"{memory_kb / 1024 / 1024:.0f} GB"
    except (OSError, StopIteration, ValueError):
        memory = "unknown memory"
    return f"{platform.node()}: {platform.machine()}, {cpus} CPUs, {memory}, Python {platform.python_version()}"


def write(directory, *, run_at, scale, figures, notes, stem="latest", extra=None):
    """``stem``.json and ``stem``.md in ``directory`` (the cost curve writes its own, beside the
    main run's latest.*); ``extra`` adds keys to the JSON document."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    document = {"run_at": run_at, "machine": machine(), "scale": scale,
                "results": [f.as_json() for f in figures], **(extra or {})}
    (directory / f"{stem}.json").write_text(json.dumps(document, indent=2) + "\n")
    lines = [f"# Benchmark run {run_at}", "", f"Machine: {document['machine']}  ", f"Scale: {scale}", "",
             "| figure | value | unit | target | baseline | ratio | met |", "|---|---|---|---|---|---|---|"]
    for f in figures:
        row = f.as_json()
        lines.append("| {name} | {value} | {unit} | {target} | {baseline} | {ratio} | {met} |".format(
            **{k: ("—" if v is None else v) for k, v in row.items()}))
    lines += ["", "## Details", ""]
    lines += [f"- **{f.name}**: {f.detail}" for f in figures if f.detail]
    if notes:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in notes]
    (directory / f"{stem}.md").write_text("\n".join(lines) + "\n")
    return document
