"""The verdicts as HTML: the table a reader sees first, with the verdict figure beside it.

``verdict_page`` writes ``<study dir>/verdicts.html``: a self-contained fragment (inline
style, the figure as a data URI) that opens on its own in a browser and that the report's
first page (workflow/report/workflow.rst) embeds as raw HTML. ``write_index`` writes
``<results>/index.html``: every study of the results tree with its verdict table and a link
to its report. Tables are laid out to fit the page width (fixed layout, wrapping cells): no
horizontal scrolling at 1400 px.
"""
from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ferstudy import atomic

# Verdict words -> cell colour (light, readable in print)
_COLOURS = {"A better": "#d8f0d8", "B better": "#f7dcd5", "equivalent": "#dde7f7",
            "undecided": "#f1f1f1"}
_STYLE = """<style>
.ferstudy-verdicts {font-family: sans-serif; font-size: 12px; max-width: 100%;}
.ferstudy-verdicts table {border-collapse: collapse; table-layout: fixed; width: 100%;}
.ferstudy-verdicts th, .ferstudy-verdicts td {border: 1px solid #ccc; padding: 3px 5px;
  text-align: left; vertical-align: top; overflow-wrap: break-word;}
.ferstudy-verdicts th {background: #eee;}
.ferstudy-verdicts td.num {font-variant-numeric: tabular-nums;}
.ferstudy-verdicts img {max-width: 100%; height: auto; display: block; margin-top: 8px;}
</style>"""
# (header, width %) of the rendered columns
_COLUMNS = (("A vs B", 17), ("scope", 17), ("effect [interval]", 20), ("verdict", 14),
            ("reason", 32))
ABSENT = "not in this study"   # a question the grid cannot ask: listed under the table


def _effect(row: pd.Series) -> str:
    """Points for differences (fractions x 100), a plain ratio for seed-spread rows."""
    if pd.isna(row.get("effect")):
        return ""
    ratio = str(row.get("unit", "")) == "seed"
    fmt = (lambda v: f"{v:.2f}") if ratio else (lambda v: f"{100 * v:+.1f}")
    low, high = (fmt(row[c]) if pd.notna(row.get(c)) else "?" for c in ("ci_low", "ci_high"))
    level = row.get("ci_level")
    at = f" at {100 * level:.4g} %" if level is not None and pd.notna(level) else ""
    return f"{'sd ratio ' if ratio else ''}{fmt(row['effect'])} [{low}, {high}]{at}"


def _cell(text: object, cls: str = "", colour: str = "") -> str:
    attrs = (f' class="{cls}"' if cls else "") + (f' style="background:{colour}"' if colour else "")
    return f"<td{attrs}>{html.escape('' if pd.isna(text) else str(text))}</td>"


def verdict_table_html(verdicts: pd.DataFrame) -> str:
    """One row per question x scope the study's grid asks: the question (A vs B), scope,
    effect with its interval, verdict, reason; then one line naming the questions the grid
    cannot ask."""
    head = "".join(f'<th style="width:{w}%">{html.escape(h)}</th>' for h, w in _COLUMNS)
    asked = verdicts[verdicts["verdict"].astype(str) != ABSENT]
    rows = []
    for _, r in asked.iterrows():
        verdict = str(r.get("verdict", ""))
        rows.append("<tr>" + _cell(r.get("label", r.get("question"))) + _cell(r.get("scope"))
                    + _cell(_effect(r), "num")
                    + _cell(verdict, colour=_COLOURS.get(verdict.split(" (")[0], ""))
                    + _cell(r.get("reason")) + "</tr>")
    absent = sorted(set(verdicts.loc[verdicts["verdict"].astype(str) == ABSENT,
                                     "label"].astype(str)))
    tail = (f"<p>{ABSENT} (the grid has no such pairs): {html.escape(', '.join(absent))}</p>\n"
            if absent else "")
    return (f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n" + "\n".join(rows)
            + "\n</tbody>\n</table>\n" + tail)


def _img(png: Path | None) -> str:
    if png is None or not Path(png).is_file():
        return ""
    # wrapped: docutils refuses lines over 10,000 characters in the report's first page, and
    # URL parsing drops the newlines inside a data URI
    data = base64.encodebytes(Path(png).read_bytes()).decode("ascii").strip()
    return f'<img alt="verdicts figure" src="data:image/png;base64,\n{data}">'


def verdict_page(verdicts: pd.DataFrame, figure_png: str | Path | None, out_html: str | Path,
                 *, title: str, note: str = "") -> None:
    """Write the fragment: a heading, the verdict table, a note (which interval, which rule)
    and the verdict figure."""
    body = (f'<div class="ferstudy-verdicts">\n{_STYLE}\n<h3>{html.escape(title)}</h3>\n'
            + verdict_table_html(verdicts)
            + (f"<p>{html.escape(note)}</p>\n" if note else "")
            + _img(Path(figure_png) if figure_png else None) + "\n</div>\n")
    atomic.write_text(out_html, body)


def write_index(results: str | Path, studies: Sequence[Path]) -> Path:
    """``<results>/index.html``: each study's name, its verdict table (from its
    ``tables/verdicts.csv``) and a link to its report, when written."""
    from ferstudy.evaluate.tables import read_comparisons_table

    results = Path(results)
    parts = []
    for folder in studies:
        table = folder / "tables" / "verdicts.csv"
        report = folder / "report.html"
        link = (f' (<a href="{html.escape(str(report.relative_to(results)))}">report</a>)'
                if report.is_file() else
                f" (report: <code>snakemake --report {html.escape(str(report))}</code>)")
        content = (verdict_table_html(read_comparisons_table(table)) if table.is_file()
                   else "<p>no verdicts yet</p>")
        parts.append(f"<h2>{html.escape(folder.name)}{link}</h2>{content}")
    out = results / "index.html"
    atomic.write_text(out, "<!DOCTYPE html><html><head><meta charset=\"utf-8\">"
                      "<title>ferstudy studies</title></head><body>"
                      f'<div class="ferstudy-verdicts">{_STYLE}<h1>Studies in {html.escape(str(results))}'
                      "</h1>" + "".join(parts) + "</div></body></html>\n")
    return out
