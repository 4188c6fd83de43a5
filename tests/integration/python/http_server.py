"""An aiohttp.web server for aiocpp's HTTP client: prints its port, serves until stdin closes."""
import asyncio
import sys

from aiohttp import web


async def json_handler(request):
    return web.json_response({"server": "aiohttp", "query": request.query.get("q", "")})


async def chunked(request):
    resp = web.StreamResponse()
    resp.enable_chunked_encoding()
    await resp.prepare(request)
    for i in range(5):
        await resp.write(f"part{i};".encode())
    await resp.write_eof()
    return resp


async def gzip_handler(request):
    resp = web.Response(text="compress me " * 500)
    resp.enable_compression(web.ContentCoding.gzip)
    return resp


async def redirect(request):
    raise web.HTTPFound("/json?q=redirected")


async def echo(request):
    body = await request.read()
    return web.Response(body=body, headers={"X-Method": request.method})


async def main():
    app = web.Application()
    app.add_routes([web.get("/json", json_handler), web.get("/chunked", chunked), web.get("/gzip", gzip_handler),
                    web.get("/redirect", redirect), web.post("/echo", echo)])
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    print(f"port {port}", flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)  # until the test closes our stdin
    await runner.cleanup()


asyncio.run(main())
