"""Result tables written as CSV and markdown (atomically), for people and for scripts."""
from pathlib import Path

from gaitbnn import runs


def markdown_table(frame):
    """A pandas DataFrame as a GitHub markdown table."""
    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(map(str, row)) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *body])


def write_table(frame, out_dir, stem, title, note):
    """Write ``stem.csv`` and ``stem.md`` (title, note, table); return the markdown."""
    out_dir = Path(out_dir)
    text = f"## {title}\n\n{note}\n\n{markdown_table(frame)}\n"
    runs.write_text(out_dir / f"{stem}.csv", frame.to_csv(index=False))
    runs.write_text(out_dir / f"{stem}.md", text)
    return text
