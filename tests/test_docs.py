"""The documentation a person navigates: every relative link in README.md and docs/ resolves (file and
heading), the README stays short, and its headline table shows the recorded figures."""
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SNAPSHOTS = Path(__file__).parent / "snapshots"
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")


def anchors(page: Path) -> set:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces as hyphens."""
    out = set()
    for line in page.read_text().splitlines():
        match = re.match(r"^#{1,6} (.+)$", line)
        if match:
            text = re.sub(r"[^\w\- ]", "", match.group(1).strip().lower())
            out.add(text.replace(" ", "-"))
    return out


def relative_links(page: Path) -> list:
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)  # code blocks hold no links
    return [target for target in LINK.findall(text) if not re.match(r"^[a-z]+:", target)]


def test_the_docs_pages_exist_and_link_back():
    names = {p.name for p in PAGES}
    assert {"bipedalnet.md", "btcnn.md", "lresnet.md", "siamese.md", "data.md", "runs.md", "phone.md",
            "architecture.md", "install.md", "models.md"} <= names
    readme = (ROOT / "README.md").read_text()
    assert all(f"docs/{p.name}" in readme for p in PAGES[1:]), "a docs page the README does not link"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_resolves(page):
    links = relative_links(page)
    broken = []
    for target in links:
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target}: no such file")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            broken.append(f"{target}: no heading #{anchor} in {file.name}")
    assert not broken, f"{page.name}: " + "; ".join(broken)


def test_the_link_check_finds_a_broken_link(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# A title, here\n\n[ok](#a-title-here) [gone](missing.md) `[code](x.md)`\n```\n[no](b.md)\n```\n")
    assert relative_links(page) == ["#a-title-here", "missing.md", "x.md"]
    assert anchors(page) == {"a-title-here"}


def test_the_readme_reads_in_five_minutes():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 250


def headline_rows() -> list:
    text = (ROOT / "README.md").read_text()
    table = text.split("<!-- headline: tests/snapshots/headline.json -->", 1)[1].split("<!-- /headline -->", 1)[0]
    return [[c.strip() for c in line.strip().strip("|").split("|")] for line in table.strip().splitlines()[2:]]


def test_the_readme_headline_table_shows_the_recorded_figures():
    recorded = json.loads((SNAPSHOTS / "headline.json").read_text())["rows"]
    params = {row["name"]: row["params"] for row in json.loads((SNAPSHOTS / "models.json").read_text())}
    expected = [[r["model"], r["what"], f"{params[r['model']]:,}", f"{r['arm64_kib']:.1f}",
                 f"{r['aarch64_instructions']:,}", f"{r['windows']:.2f}", f"{r['walks']:.2f}", f"{r['walk_vote']:.1f}"]
                for r in recorded]
    assert headline_rows() == expected
