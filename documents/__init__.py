"""Documents: PDF rendering in workers, the document registry, keys and certificates, PAdES
signing, verification and bureau downloads (DESIGN.md §4 Signatures).
"""
