"""A short, human summary of what was found in a document."""
from __future__ import annotations

from collections import Counter

from policykg import model as m

_BASIS_WORDS = {m.STATED: "stated", m.INHERITED: "inherited from its group", m.RULE: "by the document's rule",
                m.LIST_ORDER: "by list order only"}


def summarize(doc: m.Document) -> str:
    measures = doc.measures
    bases = Counter(n.lead_basis for n in measures if n.leads)
    no_lead = [n for n in measures if not n.leads]
    stated_time = sum(1 for n in measures if n.time_frame and n.time_frame.basis == m.STATED)
    actors = {a.actor.key for n in doc.nodes() for a in n.assignments}
    lines = [
        f"document   {doc.plan_title or '(no title found)'}",
        f"number     {doc.doc_number or '-'}    date {doc.created or '-'}    published {doc.issued or '-'}",
        f"issued by  {'、'.join(a.written for a in doc.issuers) or '-'}",
        f"period     {f'{doc.period.start}–{doc.period.end}' if doc.period else '-'}",
        f"based on   {len(doc.citations)} document(s)",
        f"measures   {len(measures)}; with a lead: {len(measures) - len(no_lead)} "
        f"({', '.join(f'{k} {_BASIS_WORDS[b]}' for b, k in bases.most_common())}); without: {len(no_lead)}",
        f"time       {stated_time} measure(s) state their own years; the rest take the plan's period",
        f"units      {len(actors)} distinct unit(s) named",
        f"targets    {len(doc.all_targets)}",
    ]
    for t in doc.all_targets[:8]:
        due = f" by {t.year}" if t.year else (" every year" if t.recurrence else "")
        lines.append(f"  - {t.indicator}: {t.value}{t.unit}{due}")
    if len(doc.all_targets) > 8:
        lines.append(f"  … and {len(doc.all_targets) - 8} more")
    return "\n".join(lines)
