"""Ingest layer: any published file (HTML, PDF, DOCX, DOC/WPS, Markdown, text) → one normalised text.

``convert_file`` is all the corpus layer needs; it imports nothing else of ours. The document library
(registry, ``qa add`` / ``qa remove``) lives in :mod:`policyqa.ingest.library` and is imported explicitly,
since it builds on the corpus layer.
"""

from .convert import SUPPORTED_SUFFIXES, Converted, IngestError, convert_bytes, convert_file, decode_text

__all__ = ["SUPPORTED_SUFFIXES", "Converted", "IngestError", "convert_bytes", "convert_file", "decode_text"]
