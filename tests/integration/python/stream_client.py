"""An asyncio streams client for an aiocpp server speaking the interop line protocol
(see stream_server.py). Usage: stream_client.py PORT. Prints one line per check that
passed; any failure raises, which makes the exit status non-zero."""
import asyncio
import sys

PAYLOAD = bytes((i * 7 + 3) % 251 for i in range(1 << 20))


async def exchange(port, label):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"ECHO " + label + b"\n")
    await writer.drain()
    got = await reader.readline()
    assert got == label + b"\n", got
    writer.close()
    await writer.wait_closed()


async def main(port):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"PING\n")
    assert await reader.readline() == b"PONG\n"
    print("PING ok", flush=True)

    writer.writelines([b"ECHO hello from asyncio\n", b"UPPER shout\n"])
    await writer.drain()
    assert await reader.readline() == b"hello from asyncio\n"
    assert await reader.readline() == b"SHOUT\n"
    print("LINES ok", flush=True)

    writer.write(b"BLOB %d\n" % len(PAYLOAD))
    writer.write(PAYLOAD)
    await writer.drain()
    header = await reader.readline()
    assert header == b"SIZE %d\n" % len(PAYLOAD), header
    back = await reader.readexactly(len(PAYLOAD))
    assert back == PAYLOAD[::-1]
    print(f"BLOB {len(PAYLOAD)} ok", flush=True)

    await asyncio.gather(*(exchange(port, b"client %d" % i) for i in range(20)))
    print("CONCURRENT 20 ok", flush=True)

    writer.write(b"CLOSE\n")
    await writer.drain()
    assert await reader.read() == b""
    assert reader.at_eof()
    print("EOF ok", flush=True)
    writer.close()
    await writer.wait_closed()


if __name__ == "__main__":
    asyncio.run(asyncio.wait_for(main(int(sys.argv[1])), 30))
