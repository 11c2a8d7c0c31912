"""Split long clauses into passages small enough to embed, along Chinese sentence boundaries."""

from __future__ import annotations

from langchain_text_splitters import RecursiveCharacterTextSplitter

from .records import Clause, Passage

# Sentence ends first (。 and the ASCII '.' the conversion of 001/002 left), then clause breaks.
SENTENCE_SEPARATORS = ["\n", "。", ".", "！", "？", "；", ";", "，", ",", "、", ""]
DEFAULT_MAX_CHARS = 400


def make_splitter(max_chars: int = DEFAULT_MAX_CHARS) -> RecursiveCharacterTextSplitter:
    if max_chars < 50:
        raise ValueError(f"max_chars must be at least 50, got {max_chars}")
    return RecursiveCharacterTextSplitter(
        separators=SENTENCE_SEPARATORS,
        chunk_size=max_chars,
        chunk_overlap=0,
        keep_separator="end",
        strip_whitespace=False,
        length_function=len,
    )


def split_clause(clause: Clause, splitter: RecursiveCharacterTextSplitter) -> list[Passage]:
    """Passages that together cover the clause text exactly, each with its own source span."""
    pieces = [clause.text] if len(clause.text) <= splitter._chunk_size else splitter.split_text(clause.text)
    passages: list[Passage] = []
    pos = 0
    for piece in pieces:
        start = clause.text.index(piece, pos)
        end = start + len(piece)
        pos = end
        if not piece.strip():
            continue
        passages.append(
            Passage(
                passage_id=f"{clause.clause_id}#{len(passages)}",
                clause_id=clause.clause_id,
                doc_id=clause.doc_id,
                index=len(passages),
                text=piece,
                section_path=clause.section_path,
                heading=clause.heading,
                agencies=clause.agencies,
                span=clause.source_span(start, end),
                text_start=start,
            )
        )
    return passages


def split_passages(clauses: list[Clause] | tuple[Clause, ...], max_chars: int = DEFAULT_MAX_CHARS) -> list[Passage]:
    splitter = make_splitter(max_chars)
    return [p for c in clauses for p in split_clause(c, splitter)]
