"""TCP echo server on an asyncio.Protocol; see bench/echo/README.md.

    asyncio_protocol.py PORT [--uvloop]

loop.create_server with a Protocol whose data_received() calls transport.write().
With --uvloop the same code runs on uvloop's event loop.
"""
import asyncio
import resource
import socket
import sys


class Echo(asyncio.Protocol):
    def connection_made(self, transport):
        transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)


async def serve(port):
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Echo, "127.0.0.1", port, backlog=4096)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


def main():
    args = sys.argv[1:]
    use_uvloop = "--uvloop" in args
    args = [a for a in args if a != "--uvloop"]
    if len(args) != 1:
        sys.exit("usage: asyncio_protocol.py PORT [--uvloop]")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if use_uvloop:
        import uvloop
        loop_factory = uvloop.new_event_loop
    else:
        loop_factory = None
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        runner.run(serve(int(args[0])))


if __name__ == "__main__":
    main()
