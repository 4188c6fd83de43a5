"""An asyncio datagram echo server (create_datagram_endpoint with a Protocol).

Binds 127.0.0.1 on a free port, prints "PORT <n>", echoes every datagram to its sender,
and answers "EXIT" with "BYE" and exits 0. Each sender's address is printed as
"PEER <host> <port>" the first time it is seen."""
import asyncio


class Echo(asyncio.DatagramProtocol):
    def __init__(self, done):
        self.done = done
        self.peers = set()

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        if addr not in self.peers:
            self.peers.add(addr)
            print(f"PEER {addr[0]} {addr[1]}", flush=True)
        if data == b"EXIT":
            self.transport.sendto(b"BYE", addr)
            self.done.set()
        else:
            self.transport.sendto(data, addr)


async def main():
    loop = asyncio.get_running_loop()
    done = asyncio.Event()
    transport, _ = await loop.create_datagram_endpoint(lambda: Echo(done), local_addr=("127.0.0.1", 0))
    print(f"PORT {transport.get_extra_info('sockname')[1]}", flush=True)
    try:
        await asyncio.wait_for(done.wait(), 60)
    finally:
        transport.close()


if __name__ == "__main__":
    asyncio.run(main())
