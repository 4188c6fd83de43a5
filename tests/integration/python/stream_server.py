"""An asyncio streams server speaking the interop line protocol.

Listens on 127.0.0.1 with a free port, prints "PORT <n>" on stdout, then serves:
  PING              -> PONG
  ECHO <text>       -> <text>
  UPPER <text>      -> <TEXT>
  BLOB <n> + n bytes -> "SIZE <n>" and the n bytes reversed
  CLOSE             -> the server closes this connection (the client sees EOF)
  EXIT              -> BYE, then the connection closes and the process exits 0
"""
import asyncio
import sys


async def handle(reader, writer, stop):
    try:
        while True:
            line = await reader.readline()
            if not line:
                break
            command, _, arg = line.rstrip(b"\n").partition(b" ")
            if command == b"PING":
                writer.write(b"PONG\n")
            elif command == b"ECHO":
                writer.write(arg + b"\n")
            elif command == b"UPPER":
                writer.write(arg.upper() + b"\n")
            elif command == b"BLOB":
                size = int(arg)
                data = await reader.readexactly(size)
                writer.write(b"SIZE %d\n" % size)
                writer.write(data[::-1])
            elif command == b"CLOSE":
                break
            elif command == b"EXIT":
                writer.write(b"BYE\n")
                stop.set()
                break
            else:
                writer.write(b"ERROR unknown command\n")
            await writer.drain()
    finally:
        writer.close()
        await writer.wait_closed()


async def main():
    stop = asyncio.Event()
    server = await asyncio.start_server(lambda r, w: handle(r, w, stop), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    print(f"PORT {port}", flush=True)
    async with server:
        await asyncio.wait_for(stop.wait(), 60)
    print("STOPPED", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)
