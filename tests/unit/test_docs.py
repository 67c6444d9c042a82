"""The README's generated tables match the catalogues, and emitted metrics match the table."""

from pathlib import Path

from agent.generators import docs

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_tables_are_up_to_date():
    text = README.read_text(encoding="utf-8")
    assert docs.render(text) == text, "README is stale: run `python -m agent.generators.docs`"


def test_readme_starts_with_the_two_quick_start_commands():
    lines = README.read_text(encoding="utf-8").splitlines()
    block = lines[lines.index("```sh") + 1 : lines.index("```")]
    assert [line.split("#")[0].strip() for line in block] == [
        "bash scripts/install && .venv/bin/sla-agent demo",
        "bash .ci/install && .venv/bin/python -m pytest -q",
    ]
    ci = (README.parent / ".ci" / "run").read_text()
    assert "bash .ci/install && .venv/bin/python -m pytest -q" in ci
