"""Corpus layer: policy documents → document and clause records. Imports only the format converters of
``policyqa.ingest`` (lazily, to read files that are not plain text)."""

from .loader import PARSER_VERSION, Corpus, default_corpus_dir, load_corpus
from .parser import BOILERPLATE_KINDS, ParseError, parse_converted, parse_file, parse_text
from .passages import PassageTable, split_passages
from .records import Boilerplate, Clause, Document, LoadError, ParsedDocument, Passage, Span

__all__ = [
    "BOILERPLATE_KINDS",
    "PARSER_VERSION",
    "Boilerplate",
    "Clause",
    "Corpus",
    "Document",
    "LoadError",
    "ParseError",
    "ParsedDocument",
    "Passage",
    "PassageTable",
    "Span",
    "default_corpus_dir",
    "load_corpus",
    "parse_converted",
    "parse_file",
    "parse_text",
    "split_passages",
]
