"""A student's own needle, C-arm and cement on a shared model, and the score (``run``).
"""
