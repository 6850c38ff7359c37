"""The verdicts as HTML (ferstudy.figures.verdict_page): the report's first page and
results/index.html show a real table, one row per question the grid asks."""
from __future__ import annotations

import pandas as pd

from ferstudy.figures.verdict_page import verdict_page, verdict_table_html, write_index


def verdicts(better: float = 0.12) -> pd.DataFrame:
    rows = [("ft_vs_ri", "FT vs RI", "overall", "ft", "ri", better, better - 0.05, better + 0.05,
             "fold", "A better", "interval above the ROPE"),
            ("ft_vs_ri", "FT vs RI", "dataset ckplus", "ft", "ri", 0.02, -0.1, 0.14, "fold",
             "undecided", "interval spans the ROPE <and> beyond"),
            ("sd_vs_none", "SD vs none", "overall", "sd", "none", None, None, None, "fold",
             "not in this study", "the grid has no sd / none pairs"),
            ("seed_spread_ft_vs_ri", "seed spread FT vs RI", "overall", "ft", "ri", 0.5, 0.2, 1.3,
             "seed", "undecided", "n = 2 seeds")]
    return pd.DataFrame(rows, columns=["question", "label", "scope", "a", "b", "effect", "ci_low",
                                       "ci_high", "unit", "verdict", "reason"])


def test_table_rows_are_the_asked_questions_in_points():
    html = verdict_table_html(verdicts())
    assert html.count("<tr>") == 1 + 3               # header + the three asked rows
    assert "<td>FT vs RI</td><td>overall</td><td class=\"num\">+12.0 [+7.0, +17.0]</td>" in html
    assert "sd ratio 0.50 [0.20, 1.30]" in html       # seed-spread rows: a ratio, not points
    assert "&lt;and&gt;" in html and "<and>" not in html      # text is escaped
    assert "not in this study (the grid has no such pairs): SD vs none" in html
    assert "background:#d8f0d8" in html               # A better is coloured


def test_page_embeds_the_figure_in_short_lines(tmp_path):
    png = tmp_path / "v.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 200)
    out = tmp_path / "verdicts.html"
    verdict_page(verdicts(), png, out, title="Verdicts of study x", note="which interval")
    text = out.read_text()
    assert "data:image/png;base64," in text and "<h3>Verdicts of study x</h3>" in text
    assert max(map(len, text.splitlines())) < 10_000   # docutils' line limit on the report page
    verdict_page(verdicts(), tmp_path / "missing.png", out, title="t")
    assert "<img" not in out.read_text()


def test_index_lists_every_study_with_its_table(tmp_path):
    results = tmp_path / "results"
    for name, effect in (("demo", 0.12), ("demo_archs", 0.3)):
        tables = results / "studies" / name / "tables"
        tables.mkdir(parents=True)
        verdicts(effect).to_csv(tables / "verdicts.csv", index=False)
    (results / "studies" / "demo" / "report.html").write_text("<html></html>")
    (results / "studies" / "empty").mkdir()
    from ferstudy.study_dirs import study_folders

    index = write_index(results, study_folders(results)).read_text()
    assert index.index("<h2>demo (") < index.index("<h2>demo_archs") < index.index("<h2>empty")
    assert '<a href="studies/demo/report.html">report</a>' in index
    assert "snakemake --report" in index.split("<h2>demo_archs", 1)[1]   # not built yet
    assert "+30.0 [+25.0, +35.0]" in index and "no verdicts yet" in index
