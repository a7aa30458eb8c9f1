"""The page's one third-party script, socket.io-client's dist/socket.io.min.js: where the server finds
it, and how a checkout gets it, with Node or without.

package-lock.json pins the package: its version, its registry tarball (`resolved`) and the
tarball's `integrity` (sha512, base64). `ensure()` copies the file out of node_modules when `npm ci`
installed that version there (npm checked the same integrity); otherwise it downloads the tarball,
refuses it unless its hash matches the lockfile, and extracts that one file. The copy lives in
server/static/vendor/ (ignored by git, included in the wheel), so an installed package needs
neither Node nor the network. Standard library only: it runs before the virtualenv has any package,
and in setup.py's build.

    python -m server.page_client [--from-registry]
"""
import argparse
import base64
import hashlib
import hmac
import io
import json
import os
import sys
import tarfile
import tempfile
import urllib.request
from dataclasses import dataclass

PACKAGE = "socket.io-client"
FILE_IN_PACKAGE = "dist/socket.io.min.js"
VENDOR_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static", "vendor")
FILE_NAME = os.path.basename(FILE_IN_PACKAGE)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REGISTRY = "https://registry.npmjs.org"  # npm's default, for a lockfile entry without `resolved`
HASHES = ("sha512", "sha384", "sha256")  # what npm writes into `integrity` (sha1 is too weak to trust)
DOWNLOAD_TIMEOUT = 60


class PageClientError(RuntimeError):
    """The page's script could not be installed; the message says why and what to do."""


class IntegrityError(PageClientError):
    """A downloaded tarball does not match the integrity hash in package-lock.json."""


@dataclass(frozen=True)
class Pin:
    """The package as package-lock.json pins it."""

    version: str
    url: str
    integrity: str


def path(vendor_dir=VENDOR_DIR):
    """Return where the server serves the script from."""
    return os.path.join(vendor_dir, FILE_NAME)


def locked(root=ROOT):
    """Return the Pin of the package in root's package-lock.json."""
    lockfile = os.path.join(root, "package-lock.json")
    try:
        with open(lockfile, encoding="utf-8") as file:
            entry = json.load(file)["packages"][f"node_modules/{PACKAGE}"]
        version, integrity = entry["version"], entry["integrity"]
    except (OSError, ValueError, KeyError) as exc:
        raise PageClientError(f"{lockfile} does not pin {PACKAGE} ({exc!r})") from None
    url = entry.get("resolved") or f"{REGISTRY}/{PACKAGE}/-/{PACKAGE}-{version}.tgz"
    return Pin(version, url, integrity)


def is_installed(pin, vendor_dir=VENDOR_DIR):
    """Tell whether the script in vendor_dir came from the tarball pin names."""
    try:
        with open(_stamp(vendor_dir), encoding="utf-8") as stamp:
            return stamp.read().strip() == pin.integrity and os.path.isfile(path(vendor_dir))
    except OSError:
        return False


def ensure(root=ROOT, vendor_dir=VENDOR_DIR, from_registry=False):
    """Install the pinned script into vendor_dir unless it is there; return what was done, in words."""
    pin = locked(root)
    target = path(vendor_dir)
    if is_installed(pin, vendor_dir) and not from_registry:
        return f"{PACKAGE} {pin.version} is in place ({target})"
    copied = None if from_registry else from_node_modules(root, pin)
    if copied is not None:
        _write(copied, pin, vendor_dir)
        return f"{PACKAGE} {pin.version} copied from node_modules to {target}"
    _write(download(pin), pin, vendor_dir)
    checked = pin.integrity.partition("-")[0]
    return f"{PACKAGE} {pin.version} downloaded from {pin.url}, its {checked} checked, to {target}"


def from_node_modules(root, pin):
    """Return the script from root's node_modules if npm installed the pinned version there, else None."""
    package_dir = os.path.join(root, "node_modules", PACKAGE)
    try:
        with open(os.path.join(package_dir, "package.json"), encoding="utf-8") as manifest:
            if json.load(manifest).get("version") != pin.version:
                return None
        with open(os.path.join(package_dir, FILE_IN_PACKAGE), "rb") as script:
            return script.read()
    except (OSError, ValueError):
        return None


def download(pin, urlopen=urllib.request.urlopen):
    """Download pin's tarball, check it against pin's integrity and return the script in it."""
    try:
        with urlopen(pin.url, timeout=DOWNLOAD_TIMEOUT) as reply:
            tarball = reply.read()
    except OSError as exc:
        raise PageClientError(f"could not download {pin.url} ({exc}): check the network, or install "
                              "Node.js and npm and run npm ci") from None
    check_integrity(tarball, pin.integrity, pin.url)
    return extract(tarball)


def check_integrity(data, integrity, source="the download"):
    """Raise IntegrityError unless data matches integrity, a Subresource Integrity string as npm writes."""
    for token in integrity.split():
        name, _, expected = token.partition("-")
        if name in HASHES:
            actual = base64.b64encode(hashlib.new(name, data).digest()).decode()
            if hmac.compare_digest(actual, expected):
                return
    raise IntegrityError(f"{source} does not match package-lock.json's integrity {integrity!r}: "
                         "refusing to use it")


def extract(tarball):
    """Return the contents of the script in an npm package tarball."""
    name = f"package/{FILE_IN_PACKAGE}"
    try:
        with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
            member = archive.getmember(name)
            if not member.isfile():
                raise PageClientError(f"{name} in the {PACKAGE} tarball is not a regular file")
            return archive.extractfile(member).read()
    except (tarfile.TarError, KeyError) as exc:
        raise PageClientError(f"the {PACKAGE} tarball has no {name} ({exc})") from None


def _write(data, pin, vendor_dir):
    os.makedirs(vendor_dir, exist_ok=True)
    # Written whole, then renamed: a server never serves half a file.
    with tempfile.NamedTemporaryFile(dir=vendor_dir, delete=False) as partial:
        partial.write(data)
    os.chmod(partial.name, 0o644)
    os.replace(partial.name, path(vendor_dir))
    with open(_stamp(vendor_dir), "w", encoding="utf-8") as stamp:
        stamp.write(pin.integrity + "\n")


def _stamp(vendor_dir):
    return path(vendor_dir) + ".integrity"


def main(argv=None):
    """Install the page's script from the command line; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m server.page_client",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--from-registry", action="store_true",
                        help="download and check it even if node_modules has it or it is in place")
    parser.add_argument("-q", "--quiet", action="store_true", help="say nothing when it is already in place")
    options = parser.parse_args(argv)
    try:
        if options.quiet and not options.from_registry and is_installed(locked()):
            return 0
        print(f"page client: {ensure(from_registry=options.from_registry)}")
    except PageClientError as exc:
        print(f"page client: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
