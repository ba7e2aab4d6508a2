"""The needle: planned paths (transpedicular, parapedicular), steering and the
safety checks (``path``).
"""
