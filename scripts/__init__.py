"""Tools for the docs: screenshots of the page and of the desktop app (python -m scripts.NAME)."""
