"""Records of a source on their way out: parse, redact, enrich with pod metadata, tag.

`records.SourceRoute` runs one source's batches through the parser and the redactor and
adds our fields; `tag.py` names the Fluent tag; `metadata.py` reads the pod's metadata.
"""
