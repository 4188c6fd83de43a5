"""An asyncio datagram client for an aiocpp echo endpoint. Usage: udp_client.py PORT.
Connects with create_datagram_endpoint(remote_addr=...), prints "SOCKNAME <host> <port>",
sends datagrams one at a time and checks each echo. Any failure raises (exit status 1)."""
import asyncio
import sys


class Client(asyncio.DatagramProtocol):
    def __init__(self):
        self.received = asyncio.Queue()

    def datagram_received(self, data, addr):
        self.received.put_nowait((data, addr))

    def error_received(self, exc):
        self.received.put_nowait((exc, None))


async def main(port):
    loop = asyncio.get_running_loop()
    transport, proto = await loop.create_datagram_endpoint(Client, remote_addr=("127.0.0.1", port))
    host, local_port = transport.get_extra_info("sockname")[:2]
    print(f"SOCKNAME {host} {local_port}", flush=True)
    messages = [b"datagram %d" % i for i in range(50)] + [bytes(range(256)) * 234]
    for message in messages:
        transport.sendto(message)
        data, addr = await asyncio.wait_for(proto.received.get(), 10)
        assert not isinstance(data, Exception), data
        assert data == message, (len(data), len(message))
        assert addr == ("127.0.0.1", port), addr
    print(f"ECHO {len(messages)} ok", flush=True)
    transport.close()


if __name__ == "__main__":
    asyncio.run(asyncio.wait_for(main(int(sys.argv[1])), 30))
