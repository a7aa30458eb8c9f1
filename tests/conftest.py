"""Registers the tests' fixtures; they live in tests/support/ (see its modules' docstrings)."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

pytest_plugins = ["tests.support.fixtures", "tests.support.browser", "tests.support.launch"]
