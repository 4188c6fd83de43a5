"""HTTP client benchmark program: aiohttp's ClientSession on uvloop; see bench/http/README.md.

    aiohttp_client.py PORT REQUESTS CONCURRENCY

Client protocol: set up, print "ready", wait for a line on stdin, make REQUESTS GETs of
http://127.0.0.1:PORT/ from CONCURRENCY tasks sharing one session (TCPConnector(limit=CONCURRENCY),
keep-alive), check each status is 200 and each body is 27 bytes, print one JSON line, then wait for
the end of stdin before closing the session and exiting.
"""
import asyncio
import json
import resource
import sys
import time

import aiohttp
import uvloop

BODY_LENGTH = 27  # {"message":"Hello, World!"}


async def worker(session, url, todo, failures):
    while todo[0] > 0:
        todo[0] -= 1
        async with session.get(url) as resp:
            body = await resp.read()
            if resp.status != 200 or len(body) != BODY_LENGTH:
                failures.append(f"status {resp.status}, {len(body)} body bytes")


async def amain(port, requests, concurrency):
    url = f"http://127.0.0.1:{port}/"
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        print("ready", flush=True)
        sys.stdin.readline()  # blocks the loop on purpose: nothing else runs yet
        todo, failures = [requests], []
        t0 = time.monotonic()
        await asyncio.gather(*(worker(session, url, todo, failures) for _ in range(concurrency)))
        elapsed = time.monotonic() - t0
        print(json.dumps({"requests": requests, "failed": len(failures), "seconds": elapsed,
                          "rps": requests / elapsed}), flush=True)
        if failures:
            print(f"aiohttp_client: {len(failures)} bad responses, first: {failures[0]}", file=sys.stderr)
        sys.stdin.read()
    return 1 if failures else 0


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: aiohttp_client.py PORT REQUESTS CONCURRENCY")
    port, requests, concurrency = (int(a) for a in sys.argv[1:])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        sys.exit(runner.run(amain(port, requests, concurrency)))


if __name__ == "__main__":
    main()
