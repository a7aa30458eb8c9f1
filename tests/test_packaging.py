"""The package: a wheel built from the checkout runs the whole system from its console scripts in a
fresh virtualenv, and the page's script gets there without Node (from package-lock.json's pin,
its integrity checked)."""
import base64
import hashlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import threading
import time
import zipfile

import pytest
import requests

from launcher.redis_server import free_port
from server import page_client
from shared.config import PROJECT_ROOT as ROOT

READY = re.compile(r"ready: open (http://\S+) in a browser")
SCRIPTS = ["taskprogress", "taskprogress-server", "taskprogress-worker", "taskprogress-desktop"]
SCRIPT = b"/* the socket.io client, as a test packs it */\n"


def integrity(data, name="sha512"):
    """Return data's Subresource Integrity string, as package-lock.json records it."""
    return f"{name}-{base64.b64encode(hashlib.new(name, data).digest()).decode()}"


def npm_tarball(members):
    """Return a .tgz holding members, {path: bytes or a symlink target str}, as npm packs a package."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            if isinstance(content, str):
                info.type, info.linkname = tarfile.SYMTYPE, content
                archive.addfile(info)
            else:
                info.size = len(content)
                archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def checkout_pinning(root, url, integrity_value, version="4.8.4"):
    """Make root look like a checkout whose package-lock.json pins the script at url."""
    os.makedirs(root, exist_ok=True)
    entry = {"version": version, "resolved": url, "integrity": integrity_value}
    with open(os.path.join(root, "package-lock.json"), "w") as lock:
        json.dump({"packages": {f"node_modules/{page_client.PACKAGE}": entry}}, lock)
    return root


# --- the page's script without Node ---

def test_a_download_matching_the_lockfile_is_installed(tmp_path):
    tarball = tmp_path / "client.tgz"
    tarball.write_bytes(npm_tarball({"package/dist/socket.io.min.js": SCRIPT, "package/README.md": b"hi"}))
    root = checkout_pinning(str(tmp_path / "checkout"), tarball.as_uri(), integrity(tarball.read_bytes()))
    vendor = tmp_path / "vendor"
    assert "its sha512 checked" in page_client.ensure(root, str(vendor))
    assert (vendor / "socket.io.min.js").read_bytes() == SCRIPT
    assert page_client.is_installed(page_client.locked(root), str(vendor))
    assert "in place" in page_client.ensure(root, str(vendor))  # nothing fetched twice


@pytest.mark.parametrize("recorded", [
    "tampered",  # one character of the right hash changed
    "sha256-wrong",
    "sha1-right",  # sha1 is not trusted, even when it matches
    "md5-x",
    "",
])
def test_a_download_that_does_not_match_the_lockfile_is_refused(tmp_path, recorded):
    data = npm_tarball({"package/dist/socket.io.min.js": SCRIPT})
    tarball = tmp_path / "client.tgz"
    tarball.write_bytes(data)
    right = integrity(data)
    recorded = {"tampered": right[:-5] + ("A" if right[-5] != "A" else "B") + right[-4:],
                "sha1-right": integrity(data, "sha1")}.get(recorded, recorded)
    root = checkout_pinning(str(tmp_path / "checkout"), tarball.as_uri(), recorded)
    with pytest.raises(page_client.IntegrityError, match="refusing"):
        page_client.ensure(root, str(tmp_path / "vendor"))
    assert not (tmp_path / "vendor" / "socket.io.min.js").exists()


@pytest.mark.parametrize("members", [
    {"package/README.md": b"no dist"},
    {"package/dist/socket.io.min.js": "/etc/passwd"},  # a symlink, not the file
    {"package/dist/socket.io.min.js/x": b"a directory"},
], ids=["missing", "symlink", "directory"])
def test_a_tarball_without_the_script_as_a_file_is_refused(tmp_path, members):
    data = npm_tarball(members)
    with pytest.raises(page_client.PageClientError, match="socket.io.min.js"):
        page_client.extract(data)


def test_what_npm_ci_installed_is_copied_without_a_download(tmp_path):
    root = checkout_pinning(str(tmp_path), f"http://127.0.0.1:{free_port()}/never.tgz", "sha512-unused")
    package = tmp_path / "node_modules" / "socket.io-client"
    (package / "dist").mkdir(parents=True)
    (package / "package.json").write_text(json.dumps({"version": "4.8.4"}))
    (package / "dist" / "socket.io.min.js").write_bytes(SCRIPT)
    assert "copied from node_modules" in page_client.ensure(root, str(tmp_path / "vendor"))
    assert (tmp_path / "vendor" / "socket.io.min.js").read_bytes() == SCRIPT
    (package / "package.json").write_text(json.dumps({"version": "4.0.0"}))  # not the pinned version
    with pytest.raises(page_client.PageClientError, match="could not download"):
        page_client.ensure(root, str(tmp_path / "other-vendor"))


def test_the_registry_tarball_the_lockfile_names_is_downloaded_and_checked(tmp_path):
    pin = page_client.locked()
    assert pin.url.startswith("https://registry.npmjs.org/socket.io-client/-/")
    assert pin.integrity.startswith("sha512-")
    assert "its sha512 checked" in page_client.ensure(ROOT, str(tmp_path), from_registry=True)
    with open(page_client.path(), "rb") as served:  # what ./dev setup put in place, npm or not
        assert (tmp_path / "socket.io.min.js").read_bytes() == served.read()


def test_the_registry_tarball_is_refused_against_a_tampered_lockfile(tmp_path):
    with open(os.path.join(ROOT, "package-lock.json")) as lock:
        locked = json.load(lock)
    entry = locked["packages"]["node_modules/socket.io-client"]
    right = entry["integrity"]
    entry["integrity"] = right[:20] + ("x" if right[20] != "x" else "y") + right[21:]
    (tmp_path / "package-lock.json").write_text(json.dumps(locked))
    with pytest.raises(page_client.IntegrityError, match="refusing"):
        page_client.ensure(str(tmp_path), str(tmp_path / "vendor"), from_registry=True)
    assert not (tmp_path / "vendor" / "socket.io.min.js").exists()


# --- the wheel ---

@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """The wheel, built from a copy of the checkout's tracked files (no node_modules, no page script)."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, tracked.decode().split("\0")):
        if os.path.isfile(os.path.join(ROOT, name)):
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(os.path.join(ROOT, name), source / name)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(work / "dist"),
                            str(source)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stdout + built.stderr
    [path] = (work / "dist").glob("taskprogress-*.whl")
    return path


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory):
    """A fresh virtualenv outside the checkout with the wheel installed, at constraints.txt's versions."""
    venv = tmp_path_factory.mktemp("venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
                          "-c", os.path.join(ROOT, "constraints.txt"), str(wheel)],
                         capture_output=True, text=True, timeout=600)
    assert pip.returncode == 0, pip.stdout + pip.stderr
    return venv


def test_the_wheel_holds_the_four_packages_the_page_and_its_script(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert {name.split("/")[0] for name in names if not name.startswith("taskprogress-")} == {
        "shared", "server", "launcher", "desktop_client"}  # no tests, bench or scripts
    for needed in ["server/templates/index.html", "server/static/app.js", "server/static/style.css",
                   "server/static/vendor/socket.io.min.js"]:
        assert needed in names
    entry_points = zipfile.ZipFile(wheel).read(
        next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert all(f"{script} = " in entry_points for script in SCRIPTS)


@pytest.mark.timeout(900)
def test_the_installed_console_scripts_run_the_whole_system(installed, tmp_path):
    bin_dir = installed / "bin"
    elsewhere = tmp_path / "elsewhere"  # a working directory far from the checkout
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "REDIS_URL")}
    env.update(PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", XDG_STATE_HOME=str(tmp_path / "state"),
               NO_COLOR="1", PYTHONUNBUFFERED="1")

    def run(*argv):
        return subprocess.run(argv, cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120)

    where = run(str(bin_dir / "python"), "-c", "import server; print(server.__file__)").stdout
    assert where.startswith(str(installed)) and not where.startswith(ROOT), where
    for script in SCRIPTS:
        result = run(str(bin_dir / script), "--help")
        assert result.returncode == 0 and result.stdout.lower().startswith("usage:"), (script, result)
    desktop = run(str(bin_dir / "taskprogress-desktop"))  # installed without the [desktop] extra
    assert desktop.returncode == 1 and "pip install 'taskprogress[desktop]'" in desktop.stderr, desktop

    # Settings from a .env where the command is run: the port, and short tasks.
    port = free_port()
    (elsewhere / ".env").write_text(f"SERVER_PORT={port}\nBACKGROUND_TASK_SECONDS=1\n")
    launcher = subprocess.Popen([str(bin_dir / "taskprogress"), "--no-desktop", "--private-redis"],
                                cwd=elsewhere, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True)
    output = []
    try:
        url = _wait_ready(launcher, output)
        assert url == f"http://127.0.0.1:{port}"
        page = requests.get(url + "/", timeout=10).text
        assert "/vendor/socket.io.min.js" in page and "not installed" not in page
        assert requests.get(url + "/vendor/socket.io.min.js", timeout=10).content.startswith(b"/*!")
        task_id = requests.post(url + "/tasks", json={"seconds": 0.5}, timeout=10).json()["task_id"]
        deadline = time.monotonic() + 60
        while requests.get(f"{url}/tasks/{task_id}", timeout=10).json()["state"] != "succeeded":
            assert time.monotonic() < deadline, "".join(output)
            time.sleep(0.2)
        launcher.send_signal(signal.SIGINT)
        assert launcher.wait(60) == 0
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.wait()
    text = "".join(output)
    assert "Traceback" not in text, text
    assert f"its data in {tmp_path / 'state' / 'taskprogress' / 'redis'}" in text  # not in site-packages


def _wait_ready(process, output, timeout=90):
    """Collect process's output into output; wait for its ready line and return the URL it names."""
    threading.Thread(target=lambda: output.extend(process.stdout), daemon=True).start()
    deadline = time.monotonic() + timeout
    while not (match := READY.search("".join(output))):
        if process.poll() is not None or time.monotonic() > deadline:
            time.sleep(0.5)  # the last lines
            pytest.fail(f"no ready line (exit status {process.poll()}):\n{''.join(output)}")
        time.sleep(0.1)
    return match.group(1)
