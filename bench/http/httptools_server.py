"""HTTP/1.1 JSON responder: httptools' parser in an asyncio.Protocol on uvloop; see bench/http/README.md.

    httptools_server.py PORT

Every complete request (httptools' on_message_complete) is answered with
{"message":"Hello, World!"} serialized by json.dumps, Content-Type application/json, a Date header
formatted once per second, and keep-alive unless the request asked to close. Pipelined requests are
answered in order because the parser reports them in order. This is the shape of uvicorn's
httptools protocol without the ASGI layer.
"""
import asyncio
import email.utils
import json
import resource
import socket
import sys
import time

import httptools
import uvloop

_date = [0, b""]


def date_header():
    now = int(time.time())
    if now != _date[0]:
        _date[0] = now
        _date[1] = b"Date: " + email.utils.formatdate(now, usegmt=True).encode() + b"\r\n"
    return _date[1]


class HttpProtocol(asyncio.Protocol):
    def __init__(self):
        self.parser = httptools.HttpRequestParser(self)
        self.transport = None

    def connection_made(self, transport):
        transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.transport = transport

    def data_received(self, data):
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.transport.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            self.transport.close()

    def on_message_complete(self):  # called by the parser
        body = json.dumps({"message": "Hello, World!"}, separators=(",", ":")).encode()
        keep_alive = self.parser.should_keep_alive()
        head = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                + str(len(body)).encode() + b"\r\n" + date_header()
                + (b"" if keep_alive else b"Connection: close\r\n") + b"\r\n")
        self.transport.write(head + body)
        if not keep_alive:
            self.transport.close()


async def serve(port):
    loop = asyncio.get_running_loop()
    server = await loop.create_server(HttpProtocol, "127.0.0.1", port, backlog=4096)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: httptools_server.py PORT")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(serve(int(sys.argv[1])))


if __name__ == "__main__":
    main()
