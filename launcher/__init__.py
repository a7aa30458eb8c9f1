"""Starting the system's processes: a private Redis, the worker and the server (run_all.py, tests, bench)."""
