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
