"""HTTP/1.1 JSON server on aiohttp.web running on uvloop; see bench/http/README.md.

    aiohttp_server.py PORT

One route, GET /, whose handler returns web.json_response({"message": "Hello, World!"}) serialized
compactly (the same 27 bytes as every other server). The access log is off, as for every server in
the benchmark. aiohttp adds Date and Server headers and keeps connections alive.
"""
import asyncio
import functools
import json
import resource
import sys

import uvloop
from aiohttp import web

dumps = functools.partial(json.dumps, separators=(",", ":"))


async def hello(request):
    return web.json_response({"message": "Hello, World!"}, dumps=dumps)


async def serve(port):
    app = web.Application()
    app.router.add_get("/", hello)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, backlog=4096)
    await site.start()
    print("ready", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: aiohttp_server.py PORT")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(serve(int(sys.argv[1])))


if __name__ == "__main__":
    main()
