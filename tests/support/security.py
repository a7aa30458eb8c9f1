"""Helpers for the security tests: this machine's own network address, raw engine.io sessions,
a self-signed certificate for a TLS Redis, and the server's printed token."""
import ipaddress
import json
import re
import shutil
import subprocess

import psutil
import pytest
import requests

from launcher.redis_server import TlsFiles

ENGINEIO_QUERY = "/socket.io/?EIO=4&transport=polling"
PRINTED_TOKEN = re.compile(r"/\?token=(\S+)")


def non_loopback_address():
    """Return an IPv4 address of this machine that is not a loopback one; skip the test without one.

    Traffic to it never leaves the machine: the kernel delivers it locally.
    """
    for addresses in psutil.net_if_addrs().values():
        for address in addresses:
            if address.family.name != "AF_INET":
                continue
            ip = ipaddress.ip_address(address.address)
            if not (ip.is_loopback or ip.is_link_local):
                return str(ip)
    pytest.skip("this machine has no non-loopback IPv4 address to reach a 0.0.0.0 server through")


def engineio_session(url, **headers):
    """Open an engine.io polling session as a socket.io client's first request does; return its sid."""
    reply = requests.get(url + ENGINEIO_QUERY, headers=headers, timeout=5)
    reply.raise_for_status()
    return json.loads(reply.text[1:])["sid"]


def printed_tokens(log_text):
    """Return every token the server printed in a ?token= URL."""
    return PRINTED_TOKEN.findall(log_text)


def self_signed_tls(directory):
    """Make a certificate for 127.0.0.1, its own CA, with openssl; return its TlsFiles (skip without openssl)."""
    openssl = shutil.which("openssl")
    if not openssl:
        pytest.skip("openssl is not installed: no certificate for a TLS Redis (apt-get install openssl)")
    cert, key = str(directory / "redis.crt"), str(directory / "redis.key")
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-keyout", key, "-out", cert, "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True, timeout=60)
    return TlsFiles(cert=cert, key=key, ca=cert)
