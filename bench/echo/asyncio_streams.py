"""TCP echo server on asyncio streams; see bench/echo/README.md.

    asyncio_streams.py PORT [--uvloop] [--tls CERT KEY]

asyncio.start_server; per connection: reader.read(65536), writer.write, await writer.drain().
With --uvloop the same code runs on uvloop's event loop; with --tls it serves TLS (ssl=context).
"""
import asyncio
import resource
import socket
import ssl
import sys


async def echo(reader, writer):
    writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, ssl.SSLError):
        pass
    finally:
        writer.close()


async def serve(port, context):
    server = await asyncio.start_server(echo, "127.0.0.1", port, backlog=4096, ssl=context)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


def main():
    args = sys.argv[1:]
    use_uvloop = "--uvloop" in args
    args = [a for a in args if a != "--uvloop"]
    context = None
    if len(args) == 4 and args[1] == "--tls":
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args[2], args[3])
        args = args[:1]
    if len(args) != 1:
        sys.exit("usage: asyncio_streams.py PORT [--uvloop] [--tls CERT KEY]")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if use_uvloop:
        import uvloop
        loop_factory = uvloop.new_event_loop
    else:
        loop_factory = None
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        runner.run(serve(int(args[0]), context))


if __name__ == "__main__":
    main()
