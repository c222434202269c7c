"""Debian's nginx as a reverse proxy in front of a kernel server, as a child process of the kernel.

    proxy = start_proxy(server.port, name="nb08-nginx", buffering=True)
    httpx.get(proxy.url + "/stream")      # the same app, through nginx
    proxy.access_log()                    # what nginx wrote about each request

It runs through `local_service`, so it binds 127.0.0.1 on a free port, restarts by name,
keeps its config, logs and temporary files in its own temporary folder, and stops with
the kernel. It needs no root: nginx runs as the user who started it. When that user is
root (CI machines are), nginx hands its worker to `nobody`, so the folder is made
traversable and nginx itself creates the temporary directories it writes to (it gives
them to the worker's user).

`STREAMING_LAB_NGINX` may name the nginx binary; pointing it at a missing file makes nginx
"not installed", which is how the tests check the lesson without it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from .local_service import LocalService, ServiceHandle, ServiceUnavailable, find_program, start_service

__all__ = [
    "NginxProxy",
    "ProxySettings",
    "start_proxy",
    "find_nginx",
    "nginx_missing",
    "self_signed_certificate",
    "INSTALL_HINT",
]

INSTALL_HINT = "sudo apt-get install nginx"
ENV_BINARY = "STREAMING_LAB_NGINX"
TEMP_DIRS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


def find_nginx() -> str:
    """The nginx binary (PATH, then /usr/sbin and friends), or ServiceUnavailable with the install command."""
    override = os.environ.get(ENV_BINARY)
    if override:
        if not (os.path.isfile(override) and os.access(override, os.X_OK)):
            raise ServiceUnavailable(
                f"nginx is not installed here ({ENV_BINARY}={override} does not exist); install it with `{INSTALL_HINT}` (the lesson goes on without it)."
            )
        return override
    return find_program("nginx", INSTALL_HINT)


def nginx_missing() -> str | None:
    """None when nginx can run here, else the one line to print instead of a proxy cell's output."""
    try:
        find_nginx()
    except ServiceUnavailable as missing:
        return str(missing)
    return None


@dataclass(frozen=True)
class ProxySettings:
    """The nginx settings a lesson changes; everything else stays at nginx's defaults."""

    buffering: bool = True  # proxy_buffering (nginx's default is on)
    upstream_http11: bool = False  # proxy_http_version 1.1 (nginx's default talks HTTP/1.0 to the upstream)
    read_timeout: float = 60.0  # proxy_read_timeout in seconds (default 60 s)
    gzip: bool = False  # gzip text/event-stream responses
    tls_http2: bool = False  # listen with TLS and HTTP/2 (self-signed certificate)
    log_query: bool = True  # the default log format writes the query string (tokens and all)


@dataclass
class NginxProxy(ServiceHandle):
    service: LocalService = field(repr=False)
    upstream: int
    settings: ProxySettings

    @property
    def url(self) -> str:
        scheme = "https" if self.settings.tls_http2 else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    @property
    def folder(self) -> Path:
        return self.service.folder

    def access_log(self) -> list[str]:
        return _lines(self.folder / "access.log")

    def logged(self, text: str, timeout: float = 5.0) -> str | None:
        """The last access-log line containing `text`, waiting for it: nginx logs a request
        just after the response's last byte, so a client can finish before the line exists."""
        deadline = time.monotonic() + timeout
        while True:
            lines = [line for line in self.access_log() if text in line]
            if lines or time.monotonic() > deadline:
                return lines[-1] if lines else None
            time.sleep(0.02)

    def error_log(self) -> list[str]:
        return _lines(self.folder / "error.log")

    def config(self) -> str:
        return (self.folder / "nginx.conf").read_text()


def _lines(path: Path) -> list[str]:
    return path.read_text(errors="replace").splitlines() if path.exists() else []


def _config(port: int, folder: Path, upstream: int, settings: ProxySettings) -> str:
    # `log_query=False` logs the path without its query string: a token there stays out of the log.
    log_format = (
        "log_format lab '$remote_addr [$time_local] \"$request\" $status $body_bytes_sent';"
        if settings.log_query
        else "log_format lab '$remote_addr [$time_local] \"$request_method $uri $server_protocol\" $status $body_bytes_sent';"
    )
    listen = (
        f"listen 127.0.0.1:{port} ssl http2;\n        ssl_certificate {folder}/cert.pem;\n        ssl_certificate_key {folder}/key.pem;"
        if settings.tls_http2
        else f"listen 127.0.0.1:{port};"
    )
    gzip = (
        "gzip on;\n    gzip_types text/event-stream;\n    gzip_min_length 1;"
        if settings.gzip
        else "gzip off;"
    )
    # HTTP/1.1 to the upstream: keep-alive, and the upstream answers in chunks
    upstream_http11 = (
        '\n            proxy_http_version 1.1;\n            proxy_set_header Connection "";'
        if settings.upstream_http11
        else ""
    )
    temp = "\n    ".join(f"{name}_temp_path {folder}/{name};" for name in TEMP_DIRS)
    return f"""# Written by helpers.nginx_proxy: one proxy in front of 127.0.0.1:{upstream}.
daemon off;  # stay a child of the kernel, so it stops with it
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log info;
events {{ worker_connections 1024; }}
http {{
    {log_format}
    access_log {folder}/access.log lab;
    {temp}
    {gzip}
    server {{
        {listen}
        location / {{
            proxy_pass http://127.0.0.1:{upstream};
            proxy_set_header Host $http_host;{upstream_http11}
            proxy_buffering {"on" if settings.buffering else "off"};
            proxy_read_timeout {_duration(settings.read_timeout)};
        }}
    }}
}}
"""


def self_signed_certificate(folder: Path) -> str:
    """Write cert.pem and key.pem for 127.0.0.1 into `folder`; returns the tool that made them.

    Uses the `cryptography` package when it is installed, else the `openssl` command.
    """
    folder = Path(folder)
    try:
        _certificate_with_cryptography(folder)
        return "cryptography"
    except ImportError:
        pass
    openssl = shutil.which("openssl")
    if openssl is None:
        raise ServiceUnavailable(
            "neither the cryptography package nor openssl is installed, so no certificate for HTTPS; install one with `pip install cryptography` (the lesson goes on without it)."
        )
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(folder / "key.pem"),
            "-out",
            str(folder / "cert.pem"),
        ],
        check=True,
        capture_output=True,
    )
    return "openssl"


def _certificate_with_cryptography(folder: Path) -> None:
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def start_proxy(upstream_port: int, *, name: str = "nginx", **settings) -> NginxProxy:
    """Start nginx on a free 127.0.0.1 port in front of `127.0.0.1:upstream_port`.

    `settings` are ProxySettings fields. A proxy already running under `name` is stopped first.
    Raises ServiceUnavailable (one line, with the install command) when nginx is missing.
    """
    binary = find_nginx()
    options = ProxySettings(**settings)

    def command(port: int, folder: Path) -> list[str]:
        # As root, nginx runs its worker as `nobody`: it must be able to reach the folder's files.
        folder.chmod(0o711)
        if options.tls_http2:
            self_signed_certificate(folder)
            (folder / "key.pem").chmod(0o600)  # read by the master process only
        (folder / "nginx.conf").write_text(_config(port, folder, upstream_port, options))
        # -e: the error log before the config is read (the built-in path, /var/log/nginx, needs root)
        return [binary, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-e", str(folder / "error.log")]

    service = start_service(name, command)
    return NginxProxy(service=service, upstream=upstream_port, settings=options)


def _duration(seconds: float) -> str:
    """nginx times take whole units: 1.5 s is written 1500ms."""
    return f"{round(seconds * 1000)}ms"
