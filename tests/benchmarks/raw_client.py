"""A raw-socket HTTP client for the server-path benchmark, run as its own process.

    python tests/benchmarks/raw_client.py URL [URL ...] --runs 5 [--warmup 1]

With several URLs the runs are interleaved (one of each URL per round), so a change in the
machine's load during the benchmark touches every URL alike. For each run it opens a connection, sends `GET` (HTTP/1.1, `Connection: close`, so the server
frames the body in chunks as it would for a browser), reads until the server closes, and
records the seconds to the first body byte and to the end. It prints the runs as JSON.
It parses nothing: the client must cost far less than the server it measures.
The output is {url: [run, ...]}.
"""

import argparse
import json
import socket
import sys
import time
from urllib.parse import urlsplit


def one_run(url: str) -> dict:
    parts = urlsplit(url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    request = f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nAccept: text/event-stream\r\nConnection: close\r\n\r\n".encode()
    received, first_body = 0, None
    head = b""
    with socket.create_connection((parts.hostname, parts.port)) as sock:
        start = time.perf_counter()
        sock.sendall(request)
        while True:
            chunk = sock.recv(1 << 20)
            if not chunk:
                break
            if first_body is None:
                head += chunk
                end = head.find(b"\r\n\r\n")
                if end < 0 or end + 4 == len(head):
                    continue  # the body has not started yet
                first_body = time.perf_counter() - start
                received += len(head) - end - 4
            else:
                received += len(chunk)
        total = time.perf_counter() - start
    return {"first_byte": first_body if first_body is not None else total, "total": total, "bytes": received}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("urls", nargs="+")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    options = parser.parse_args(argv)
    results = {url: [] for url in options.urls}
    for _ in range(options.warmup):
        for url in options.urls:
            one_run(url)
    for _ in range(options.runs):
        for url in options.urls:
            results[url].append(one_run(url))
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1:])
