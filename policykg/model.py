"""Stage 3's output: the document model. Every item holds the span of text it came from."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from typing import TYPE_CHECKING

from policykg.text import Block, Span

if TYPE_CHECKING:
    from policykg.actors import Jurisdiction

# Kinds of outline node
GROUP, MEASURE, CLAUSE, PART, PHASE = "group", "measure", "clause", "part", "phase"
GOAL, BACKGROUND, ASSURANCE, SCHEDULE, ATTACHMENT, TASK = (
    "goal", "background", "assurance", "schedule", "attachment", "task")

# Roles and how a lead was determined
LEAD, CO, RESPONSIBLE = "lead", "co", "responsible"
STATED, INHERITED, RULE, LIST_ORDER = "stated", "inherited", "rule", "list_order"


@dataclass(frozen=True)
class ActorMention:
    """A unit named in the text: as written, and its full name within the document."""

    written: str            # exactly as the text writes it
    full: str               # with a shared prefix restored (市经贸信息委、科技创新委 -> 市科技创新委)
    key: str                # folded full name: one actor per key within a document
    span: Span
    collective: bool = False
    marked_lead: bool = False   # written with a lead mark: 省能源局（牵头）


@dataclass(frozen=True)
class NoteEntry:
    role: str               # lead | co | responsible
    actor: ActorMention


@dataclass
class ResponsibilityNote:
    span: Span
    text: str
    entries: list[NoteEntry]
    form: str               # labelled (牵头单位：…) | verb (…按职责分工负责) | line (责任单位 on its own line)


@dataclass(frozen=True)
class Assignment:
    """One actor's role on one measure or group, and how it was determined."""

    actor: ActorMention
    role: str                       # lead | co
    basis: str | None               # for leads: stated | inherited | rule | list_order
    note: ResponsibilityNote | None
    inherited_from: Node | None = None


@dataclass(frozen=True)
class TimeExpression:
    span: Span
    text: str
    kind: str                # range | by | before | since | period | year | recurring | ongoing
    start: int | None = None
    end: int | None = None
    recurrence: str | None = None   # "year" for 每年


@dataclass
class TimeFrame:
    start: int
    end: int
    basis: str                        # stated | document
    expressions: list[TimeExpression] = field(default_factory=list)


@dataclass
class Target:
    span: Span
    text: str
    indicator: str
    value: Decimal
    unit: str
    comparator: str | None = None
    aspirational: bool = False
    year: int | None = None
    recurrence: str | None = None
    normalized_value: Decimal | None = None
    normalized_unit: str | None = None
    time_expression: TimeExpression | None = None


@dataclass
class Node:
    """One numbered (or heading-sentence) division of the outline."""

    kind: str                      # group | measure | clause | part | phase, or a section kind
    number: str                    # as written, e.g. （一）; "" for unnumbered paragraphs
    path: str                      # e.g. 3.1.2 ; p for unnumbered paragraph items
    style: str
    rank: int
    span: Span                     # the whole node with its descendants
    own_span: Span                 # the node's own blocks, without its children
    heading: str | None = None     # as written
    text: str = ""                 # full text as written, number excluded
    section_kind: str = TASK       # the kind of section it stands in
    children: list[Node] = field(default_factory=list)
    notes: list[ResponsibilityNote] = field(default_factory=list)
    assignments: list[Assignment] = field(default_factory=list)
    time_frame: TimeFrame | None = None
    targets: list[Target] = field(default_factory=list)
    time_expressions: list[TimeExpression] = field(default_factory=list)
    parent: Node | None = field(default=None, repr=False, compare=False)

    def walk(self):
        yield self
        for c in self.children:
            yield from c.walk()

    @property
    def leads(self) -> list[Assignment]:
        return [a for a in self.assignments if a.role == LEAD]

    @property
    def lead_basis(self) -> str | None:
        leads = self.leads
        return leads[0].basis if leads else None


@dataclass(frozen=True)
class Citation:
    """A document this one says it is based on: 《title》（文号）."""

    span: Span
    title: str | None
    number: str | None
    written: str = ""       # the citation as the text writes it


@dataclass
class Finding:
    """Something the extractor noticed and tolerated (a numbering gap, a missing period)."""

    code: str
    message: str
    span: Span | None = None


@dataclass
class Document:
    name: str
    sha256: str
    media_type: str
    encoding: str
    char_count: int
    plan_title: str | None = None
    plan_title_span: Span | None = None
    notice_title: str | None = None
    notice_title_span: Span | None = None
    doc_number: str | None = None
    doc_number_span: Span | None = None
    issuers: list[ActorMention] = field(default_factory=list)
    created: dt.date | None = None
    created_span: Span | None = None
    issued: dt.date | None = None
    issued_span: Span | None = None
    fields: dict[str, str] = field(default_factory=dict)     # other portal metadata (索引号, 主题分类)
    citations: list[Citation] = field(default_factory=list)
    lead_rule: str | None = None
    lead_rule_span: Span | None = None
    period: TimeFrame | None = None
    outline: list[Node] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)     # stated outside any measure
    findings: list[Finding] = field(default_factory=list)
    blocks: tuple[Block, ...] = ()  # the text's blocks: the pages and locators of spans
    text_sha256: str = ""           # digest of the text as read, which spans point into
    jurisdiction: Jurisdiction | None = None  # the division the plan is of, if known

    def nodes(self):
        for n in self.outline:
            yield from n.walk()

    @property
    def measures(self) -> list[Node]:
        return [n for n in self.nodes() if n.kind == MEASURE]

    @property
    def all_targets(self) -> list[Target]:
        return self.targets + [t for n in self.nodes() for t in n.targets]
