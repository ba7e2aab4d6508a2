"""The quiz: its strict reader and grading (``model``) and its scenario images (``images``).
"""
