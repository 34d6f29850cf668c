"""Result tables written as CSV and markdown (atomically), for people and for scripts."""
from __future__ import annotations

import csv
import json
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

from gaitbnn.atomic import atomic_path

if TYPE_CHECKING:
    import pandas as pd

def markdown_table(frame: pd.DataFrame) -> str:
    """A pandas DataFrame as a GitHub markdown table."""
    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(map(str, row)) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *body])


def write_table(frame: pd.DataFrame, out_dir: str | Path, stem: str, title: str, note: str) -> str:
    """Write ``stem.csv`` and ``stem.md`` (title, note, table); return the markdown."""
    out_dir = Path(out_dir)
    text = f"## {title}\n\n{note}\n\n{markdown_table(frame)}\n"
    for path, content in ((out_dir / f"{stem}.csv", frame.to_csv(index=False)), (out_dir / f"{stem}.md", text)):
        with atomic_path(path) as tmp:
            tmp.write_text(content)
    return text


class ReportWriter:
    """Writes a reproduction's tables and results under ``out`` and remembers every file it wrote."""

    def __init__(self, out_dir):
        self.out = Path(out_dir)
        self.files = []

    def table(self, frame: pd.DataFrame, stem: str, title: str, note: str) -> str:
        """``write_table`` into the output folder; return the markdown."""
        text = write_table(frame, self.out, stem, title, note)
        self.files += [f"{stem}.csv", f"{stem}.md"]
        return text

    def json(self, name: str, obj: object) -> None:
        with atomic_path(self.out / name) as tmp:
            tmp.write_text(json.dumps(obj, indent=2) + "\n")
        self.files.append(name)


def plot_history(history_csv: str | Path, png_path: str | Path, title: str) -> None:
    """Training curves (loss and accuracy, train and validation) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with open(history_csv) as f:
        rows = list(csv.DictReader(f))
    epochs = [int(r["epoch"]) + 1 for r in rows]
    fig, (ax_loss, ax_score) = plt.subplots(1, 2, figsize=(10, 4))
    panels = ((ax_loss, "loss", [("loss", "train"), ("val_loss", "validation")]),
              (ax_score, "score", [("accuracy", "train accuracy"), ("val_accuracy", "validation accuracy"),
                                   ("val_weighted_f1", "validation weighted F1")]))
    for ax, ylabel, curves in panels:
        for key, label in curves:
            values = [_number(r.get(key)) for r in rows]
            if rows and any(v is not None for v in values):  # Keras writes NA for metrics it did not compute
                ax.plot(epochs, [float("nan") if v is None else v for v in values], label=label)
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        if ax.lines:  # an embedding run has no accuracy panel to label
            ax.legend()
    fig.suptitle(textwrap.fill(title, 110), fontsize=9)
    fig.tight_layout()
    with atomic_path(png_path) as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)


def _number(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def plot_stacked_bars(parts: dict, png_path: str | Path, title: str, columns: int = 4) -> None:
    """One small panel per entry of ``parts`` (name -> {bar: {part: value}}), each with a horizontal bar per bar
    name stacked by part, on the panel's own scale (the entries may differ by orders of magnitude)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kinds = sorted({k for bars in parts.values() for bar in bars.values() for k in bar})
    colours = dict(zip(kinds, (plt.get_cmap("tab20").colors + plt.get_cmap("tab20b").colors) * 2))
    rows = -(-len(parts) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4 * columns, 1.4 * rows + 1.2), squeeze=False)
    for ax, (name, bars) in zip(axes.flat, parts.items()):
        for y, values in enumerate(bars.values()):
            left = 0.0
            for kind, value in sorted(values.items(), key=lambda kv: -kv[1]):
                ax.barh(y, value, left=left, color=colours[kind])
                left += value
            ax.text(left, y, f" {left / 1e6:.3g}M", va="center", fontsize=7)
        ax.set_yticks(range(len(bars)), list(bars), fontsize=8)
        ax.set_title(name, fontsize=9)
        ax.tick_params(axis="x", labelsize=7)
        ax.set_xlim(0, 1.3 * max(sum(v.values()) for v in bars.values()))
    for ax in list(axes.flat)[len(parts):]:
        ax.axis("off")
    fig.legend([plt.Rectangle((0, 0), 1, 1, color=colours[k]) for k in kinds], kinds, loc="lower center",
               ncol=min(len(kinds), 6), fontsize=8)
    fig.suptitle(textwrap.fill(title, 110), fontsize=10)
    fig.tight_layout(rect=(0, 0.04 + 0.02 * (len(kinds) // 6), 1, 0.97))
    with atomic_path(png_path) as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)
