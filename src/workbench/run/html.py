"""Rendering an executed notebook into a self-contained ``report.html`` (no code cells, no CDN)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from workbench.run.status import STATUS_OK

__all__ = ["render_report"]


_TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"


_REPORT_TEMPLATE = r"""{%- extends 'index.html.j2' -%}
{#- the lab template without code cells and without scripts from a CDN, so it works offline -#}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block extra_css -%}
<style type="text/css">
.wb-header { max-width: 1100px; margin: 24px auto 8px; padding: 0 20px 12px;
  border-bottom: 1px solid #ddd; font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans CJK SC", sans-serif; }
.wb-header h1 { font-size: 1.6em; margin: 0 0 8px; }
.wb-header dl { display: flex; flex-wrap: wrap; gap: 4px 28px; margin: 0; font-size: 0.95em; }
.wb-header dt { display: inline; color: #666; margin-right: 6px; }
.wb-header dd { display: inline; margin: 0; }
.wb-status { padding: 1px 8px; border-radius: 10px; color: #fff; }
.wb-ok { background: #2e7d32; } .wb-failed { background: #c62828; }
main { max-width: 1100px; margin: 0 auto; }
.wb-sources { max-width: 1100px; margin: 24px auto; padding: 12px 20px; border-top: 1px solid #ddd;
  font-size: 0.85em; color: #444; }
.wb-sources h2 { font-size: 1.1em; }
.wb-sources td, .wb-sources th { padding: 2px 10px 2px 0; text-align: left; }
/* Chinese text: use the reader's CJK fonts (Windows, macOS, Linux) before the generic family */
body, .jp-RenderedHTMLCommon, .jp-RenderedText pre, table {
  font-family: system-ui, -apple-system, "Segoe UI", "PingFang SC", "Hiragino Sans GB",
    "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", sans-serif; }
.jp-RenderedHTMLCommon table { font-size: 12px; }
</style>
{%- endblock extra_css -%}
{%- block body_header -%}
{{ super() }}
{%- set wb = resources.workbench %}
<header class="wb-header">
<h1>{{ wb.title | e }}</h1>
<dl>
{%- for name, value in wb.facts %}
<div><dt>{{ name | e }}</dt><dd>{{ value | e }}</dd></div>
{%- endfor %}
<div><dt>Status</dt><dd><span class="wb-status wb-{{ wb.status_class }}">{{ wb.status | e }}</span></dd></div>
</dl>
</header>
{%- endblock body_header -%}
{%- block body_footer -%}
{%- set wb = resources.workbench %}
{%- if wb.sources %}
<section class="wb-sources">
<h2>数据来源 · Where the data came from</h2>
<table>
<thead><tr><th>kind</th><th>what</th><th>file / run</th><th>checksum (SHA-256)</th></tr></thead>
<tbody>
{%- for row in wb.sources %}
<tr><td>{{ row.kind | e }}</td><td>{{ row.what | e }}</td><td>{{ row.where | e }}</td><td><code>{{ row.checksum | e }}</code></td></tr>
{%- endfor %}
</tbody>
</table>
{%- if wb.fingerprint %}<p>Input fingerprint <code>{{ wb.fingerprint | e }}</code>: artifacts are reused only from runs with the same one.</p>{%- endif %}
</section>
{%- endif %}
{{ super() }}
{%- endblock body_footer -%}
"""


def render_report(
    notebook: str | Path,
    html: str | Path,
    *,
    title: str,
    facts: Sequence[tuple[str, str]] = (),
    status: str = STATUS_OK,
    provenance: Mapping[str, Any] | None = None,
) -> Path:
    """Render an executed notebook as a self-contained HTML report without code.

    Uses nbconvert's ``lab`` template with inputs and prompts excluded, images embedded and
    no scripts loaded from a CDN (require.js, MathJax, Mermaid, widgets). Cells tagged
    ``remove-cell`` are dropped, ``remove-output`` lose their outputs.

    Parameters
    ----------
    notebook : path
        Executed ``.ipynb``.
    html : path
        Where to write the report.
    title : str
        Page title and heading (params title · analysis title).
    facts : sequence of (str, str)
        Header facts shown under the title (dataset, as of, run time, ...).
    status : str, default "ok"
        Status shown in the header (``failed: ValueError: ...`` shows red).
    provenance : dict, optional
        The ``provenance`` entry of the analysis's ``metrics.json``
        (:meth:`workbench.run.provenance.Provenance.metrics`): shown at the end as "where the
        data came from" (input files with checksums, artifacts read with the run that made them).

    Returns
    -------
    Path
        ``html``.
    """
    import nbformat
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    config = Config()
    config.TagRemovePreprocessor.enabled = True
    config.TagRemovePreprocessor.remove_cell_tags = {"remove-cell"}
    config.TagRemovePreprocessor.remove_all_outputs_tags = {"remove-output"}
    config.TagRemovePreprocessor.remove_input_tags = {"remove-input"}
    exporter = HTMLExporter(
        config=config,
        template_name="lab",
        extra_loaders=[DictLoader({"workbench_report.html.j2": _REPORT_TEMPLATE})],
        template_file="workbench_report.html.j2",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    nb = nbformat.read(str(notebook), as_version=4)
    nb.metadata["title"] = title
    resources = {
        "metadata": {"path": str(Path(notebook).parent), "name": Path(notebook).stem},
        "workbench": {
            "title": title,
            "facts": list(facts),
            "status": status,
            "status_class": "ok" if status == STATUS_OK else "failed",
            "sources": _source_rows(provenance or {}),
            "fingerprint": (provenance or {}).get("fingerprint"),
        },
    }
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    out = Path(html)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(_drop_css_rules(body, "jp-InputArea-editor"), encoding="utf-8")
    return out


def _source_rows(provenance: Mapping[str, Any]) -> list[dict[str, str]]:
    """Rows of the "where the data came from" table: input files, then artifacts read."""
    rows = [{"kind": "input", "what": str(f.get("table", "")), "where": Path(str(f.get("path", ""))).name,
             "checksum": str(f.get("sha256", ""))[:16]} for f in provenance.get("inputs", [])]
    rows += [{"kind": "artifact", "what": f"{a.get('analysis')}/{a.get('name')}", "where": f"run {a.get('run')}",
              "checksum": str(a.get("fingerprint", ""))[:16]} for a in provenance.get("artifacts_read", [])]
    return rows


def _drop_css_rules(html: str, selector_part: str) -> str:
    """Remove CSS rules whose selector mentions ``selector_part`` from ``<style>`` blocks.

    Code cells are not rendered, so their editor styles are dead weight; without them the
    report holds no trace of code-input markup at all.
    """
    def clean(match: re.Match[str]) -> str:
        tokens = re.split(r"([{}])", match.group(2))
        kept: list[str] = []
        i = 0
        while i < len(tokens):
            is_rule = tokens[i + 1:i + 2] == ["{"] and tokens[i + 3:i + 4] == ["}"]
            if is_rule and tokens[i] not in "{}" and selector_part in tokens[i]:
                i += 4
                continue
            kept.append(tokens[i])
            i += 1
        return match.group(1) + "".join(kept) + match.group(3)

    return re.sub(r"(<style[^>]*>)(.*?)(</style>)", clean, html, flags=re.DOTALL)
