"""Build hook: put the page's socket.io client into the package before it is built.

Everything else about the package is in pyproject.toml. The script is pinned by package-lock.json and
fetched by server/page_client.py (from node_modules, else from the npm registry with its integrity
checked), so a wheel built from a fresh checkout carries it, and an installed package needs no Node.
"""
import importlib.util
import os

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))


def _page_client():
    # Loaded from its file: importing the `server` package would need its dependencies, absent here.
    path = os.path.join(HERE, "server", "page_client.py")
    spec = importlib.util.spec_from_file_location("page_client", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class BuildPyWithPageClient(build_py):
    """build_py that first makes sure server/static/vendor/ holds the pinned socket.io client."""

    def run(self):
        page_client = _page_client()
        try:
            self.announce(page_client.ensure(root=HERE), level=2)
        except page_client.PageClientError as exc:
            raise SystemExit(f"cannot build without the page's socket.io client: {exc}") from None
        super().run()


# pyproject.toml lists server.static.vendor as a package, and setuptools checks that its directory
# exists before any command runs; the script itself arrives in build_py.
os.makedirs(os.path.join(HERE, "server", "static", "vendor"), exist_ok=True)
setup(cmdclass={"build_py": BuildPyWithPageClient})
