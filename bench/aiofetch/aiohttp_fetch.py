#!/usr/bin/env python3
"""The aiofetch benchmark's peer: what an asyncio user writes for the same job with aiohttp.

Reads URLs (one per line) from a file, fetches them with at most CONCURRENCY in flight (a
Semaphore), and writes one JSON line per URL (url, status, bytes, elapsed_ms, error) to OUTPUT.
Runs on uvloop when it is installed, as such a user would.

    python3 aiohttp_fetch.py URLS_FILE CONCURRENCY OUTPUT
"""
import asyncio
import json
import sys
import time

import aiohttp


async def fetch(session, sem, url, out):
    async with sem:
        start = time.monotonic()
        record = {"url": url, "status": 0, "bytes": 0, "error": ""}
        try:
            async with session.get(url) as resp:
                body = await resp.read()
                record["status"] = resp.status
                record["bytes"] = len(body)
        except (aiohttp.ClientError, asyncio.TimeoutError) as e:
            record["error"] = repr(e)
        record["elapsed_ms"] = round((time.monotonic() - start) * 1000, 1)
        out.write(json.dumps(record) + "\n")


async def main(urls_file, concurrency, output):
    with open(urls_file) as f:
        urls = [line.strip() for line in f if line.strip()]
    sem = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=30)
    with open(output, "w") as out:
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            await asyncio.gather(*(fetch(session, sem, u, out) for u in urls))


if __name__ == "__main__":
    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3]))
