"""The sheet as an HTML page for print: a pure function of the words, the pictures and the paper.

Large type (12.5 pt body, nothing a reader needs below 12 pt; only the source list and the
citation numbers are smaller), black on white, no meaning carried by colour alone (the level
is dark in the picture and named beside it), headings, lists and figures with alternative
text, so the tagged PDF reads in order with a screen reader.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from vp3d.handout.text import CitedText, SheetText

#: Paper name (vp3d.handout.options.PAPERS) -> CSS page size.
PAPER_SIZES: dict[str, str] = {"a4": "A4", "letter": "letter"}
BODY_PT = 12.5
SOURCES_PT = 10

_CSS = """
@font-face {{ font-family: "Sheet Sans"; src: url("{regular}"); font-weight: normal; }}
@font-face {{ font-family: "Sheet Sans"; src: url("{bold}"); font-weight: bold; }}
@page {{
  size: {size}; margin: 15mm 16mm 17mm 16mm;
  @bottom-left {{ content: "{footer}"; font-family: "Sheet Sans"; font-size: 8pt; color: #222;
                  width: 85%; }}
  @bottom-right {{ content: counter(page) " / " counter(pages); font-family: "Sheet Sans";
                   font-size: 9pt; color: #222; }}
}}
html {{ font-family: "Sheet Sans"; font-size: {body}pt; line-height: 1.38; color: #000; }}
h1 {{ font-size: 20pt; line-height: 1.2; margin: 0 0 2mm; }}
h2 {{ font-size: 15pt; margin: 5mm 0 1.5mm; padding-bottom: 0.8mm; border-bottom: 1.2pt solid #000;
      break-after: avoid; }}
p {{ margin: 0 0 2mm; }}
.subtitle {{ margin-bottom: 1mm; }}
.blank {{ display: inline-block; border-bottom: 1pt solid #000; width: 85mm; height: 1em; }}
.blank.short {{ width: 60mm; }}
sup {{ font-size: 8pt; line-height: 0; }}
.nb {{ white-space: nowrap; }}
figure {{ margin: 0; }}
figcaption {{ font-size: 12pt; line-height: 1.3; }}
.spine {{ float: left; width: 50mm; margin: 1mm 6mm 2mm 0; }}
.spine img {{ width: 50mm; border: 0.8pt solid #000; }}
.xray {{ margin: 2mm 0 3mm; }}
.xray img {{ width: 62mm; float: left; margin-right: 4mm; }}
.xray figcaption {{ padding-top: 1mm; }}
.clear {{ clear: both; }}
ol, ul {{ margin: 0 0 2mm; padding-left: 7mm; }}
li {{ margin-bottom: 1.2mm; }}
.warning {{ border: 2.5pt solid #000; padding: 1mm 4mm 3mm; margin-top: 5mm; break-inside: avoid; }}
.warning h2 {{ border-bottom: none; margin-top: 2mm; }}
.warning li {{ font-weight: bold; }}
.call p {{ margin: 2.5mm 0; }}
.sources {{ font-size: {sources}pt; line-height: 1.3; }}
.sources li {{ margin-bottom: 0.8mm; }}
"""


def _sentences(items: tuple[CitedText, ...]) -> str:
    return " ".join(_cited(s) for s in items)


def _cited(s: CitedText) -> str:
    """The sentence with its source numbers raised, kept on one line with its last word."""
    head, _, last = s.text.rpartition(" ")
    refs = ",".join(map(str, s.refs))
    return f"{escape(head)} <span class=\"nb\">{escape(last)}<sup>{refs}</sup></span>".lstrip()


def _list(tag: str, items: tuple[CitedText, ...]) -> str:
    return f"<{tag}>" + "".join(f"<li>{_cited(s)}</li>" for s in items) + f"</{tag}>"


def sheet_html(text: SheetText, spine_png: Path, xray_png: Path, paper: str = "a4",
               regular_font: Path | None = None, bold_font: Path | None = None) -> str:
    """The sheet's HTML for WeasyPrint: the words of ``text``, the two pictures, the paper size."""
    from vp3d.handout.pictures import font_path

    h = text.headings
    css = _CSS.format(size=PAPER_SIZES[paper], body=BODY_PT, sources=SOURCES_PT,
                      regular=Path(regular_font or font_path()).as_uri(),
                      bold=Path(bold_font or font_path(bold=True)).as_uri(),
                      footer=text.footer.replace("\\", "\\\\").replace('"', '\\"'))
    call = text.call
    sources = "".join(f"<li>{escape(s.citation)}</li>" for s in text.sources)
    return f"""<!DOCTYPE html>
<html lang="{text.lang}"><head><meta charset="utf-8">
<title>{escape(text.title)}</title><meta name="generator" content="vp3d">
<style>{css}</style></head>
<body>
<h1>{escape(text.title)}</h1>
<p class="subtitle">{escape(text.subtitle)}</p>
<p>{escape(text.patient_name)} <span class="blank"></span></p>
<figure class="spine"><img src="{Path(spine_png).as_uri()}" alt="{escape(text.pictures['spine_alt'])}">
<figcaption>{escape(text.pictures['spine_caption'])}</figcaption></figure>
<h2>{escape(h['level'])}</h2>
<p><strong>{escape(text.level_text)}</strong></p>
<p>{_sentences(text.what)}</p>
<h2>{escape(h['fracture'])}</h2>
<p>{_sentences(text.fracture)}</p>
<figure class="xray"><img src="{Path(xray_png).as_uri()}" alt="{escape(text.pictures['xray_alt'])}">
<figcaption>{escape(text.pictures['xray_caption'])}</figcaption></figure>
<div class="clear"></div>
<h2>{escape(h['steps'])}</h2>
{_list("ol", text.steps)}
<h2>{escape(h['afterwards'])}</h2>
{_list("ul", text.afterwards)}
<section class="warning">
<h2>{escape(h['warning'])}</h2>
<p>{_sentences(text.risk)} {escape(call['intro'])}</p>
{_list("ul", text.warning_signs)}
<div class="call"><p>{escape(call['whom'])}</p>
<p>{escape(call['clinic'])} <span class="blank"></span></p>
<p>{escape(call['phone'])} <span class="blank short"></span></p>
<p>{escape(call['hours'])} <span class="blank short"></span></p></div>
</section>
<h2>{escape(h['evidence'])}</h2>
<p>{_sentences(text.evidence)} {escape(text.evidence_close)}</p>
<h2>{escape(h['sources'])}</h2>
<p class="sources">{escape(text.sources_intro)}</p>
<ol class="sources">{sources}</ol>
</body></html>"""
