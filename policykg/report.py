"""Validation reports as text (Chinese by default), JSON, Turtle (sh:ValidationReport) or HTML."""
from __future__ import annotations

import html
import json

from policykg.validate import Report

_WORDS = {
    "zh": {"Violation": "违反", "Warning": "警告", "Info": "提示", "conforms": "符合", "document": "文件",
           "summary": "共 {n} 份文件：{v} 项违反，{w} 项警告，{e} 个错误", "error": "错误",
           "measure": "措施", "target": "目标", "actor": "单位", "node": ""},
    "en": {"Violation": "violation", "Warning": "warning", "Info": "info", "conforms": "conforms",
           "document": "document", "summary": "{n} document(s): {v} violation(s), {w} warning(s), {e} error(s)",
           "error": "error", "measure": "measure ", "target": "target ", "actor": "actor ", "node": ""},
}


def _totals(r: Report) -> dict:
    return {"n": len(r.documents), "v": sum(len(d.violations) for d in r.documents),
            "w": sum(len(d.warnings) for d in r.documents), "e": len(r.errors)}


def _state(d, w: dict) -> str:
    if not d.findings:
        return w["conforms"]
    return f"{len(d.violations)} {w['Violation']}, {len(d.warnings)} {w['Warning']}"


def as_text(r: Report, lang: str = "zh") -> str:
    w = _WORDS[lang]
    out = []
    for d in r.documents:
        state = _state(d, w)
        out.append(f"{w['document']}: {d.title}  ({d.source})  [{state}]")
        for f in d.findings:
            where = f"  [{f.path}]" if f.path else ""
            out.append(f"  {w[f.severity]}  {w[f.focus_kind]}{f.focus_label}: {f.text(lang)}{where}")
    for _, message in r.errors:  # the message names the file
        out.append(f"{w['error']}: {message}")
    out.append(w["summary"].format(**_totals(r)))
    return "\n".join(out)


def as_json(r: Report, lang: str = "zh") -> str:
    return json.dumps({
        "conforms": r.conforms,
        "totals": _totals(r),
        "documents": [{
            "document": d.document, "title": d.title, "source": d.source, "conforms": not d.violations,
            "findings": [{"severity": f.severity, "focus": f.focus, "focus_kind": f.focus_kind,
                          "focus_label": f.focus_label, "path": f.path,
                          "component": f.component, "shape": f.shape, "message": f.text(lang),
                          "messages": f.message, "value": f.value} for f in d.findings],
        } for d in r.documents],
        "errors": [{"source": s, "message": m} for s, m in r.errors],
    }, ensure_ascii=False, indent=2)


def as_turtle(r: Report, lang: str = "zh") -> str:
    return r.results.serialize(format="turtle")


def as_html(r: Report, lang: str = "zh") -> str:
    w = _WORDS[lang]
    e = html.escape
    rows = []
    for d in r.documents:
        rows.append(f"<h2>{e(d.title)}</h2><p>{e(d.source)} — {e(_state(d, w))}</p>")
        if d.findings:
            rows.append("<table>")
            rows += [f"<tr class='{e(f.severity.lower())}'><td>{e(w[f.severity])}</td>"
                     f"<td>{e(w[f.focus_kind])}{e(f.focus_label)}</td>"
                     f"<td>{e(f.text(lang))}</td><td>{e(f.path or '')}</td></tr>" for f in d.findings]
            rows.append("</table>")
    rows += [f"<p class='error'>{e(w['error'])}: {e(m)}</p>" for _, m in r.errors]
    return (f"<!DOCTYPE html><html lang='{lang}'><head><meta charset='utf-8'><title>policykg</title>"
            "<style>body{font-family:sans-serif}td{padding:2px 8px}.violation td:first-child{color:#b00}"
            ".warning td:first-child{color:#a60}</style></head><body>"
            f"<h1>{e(w['summary'].format(**_totals(r)))}</h1>" + "".join(rows) + "</body></html>\n")


FORMATTERS = {"text": as_text, "json": as_json, "turtle": as_turtle, "html": as_html}
