"""aiohttp's client against an aiocpp HTTP server: prints one JSON line per check."""
import asyncio
import json
import sys

import aiohttp


async def main(base):
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{base}/hello?name=py") as r:
            print(json.dumps({"check": "get", "status": r.status, "body": await r.json()}))
        async with session.post(f"{base}/echo", json={"a": [1, 2, 3]}) as r:
            print(json.dumps({"check": "post", "status": r.status, "body": await r.json()}))
        async with session.get(f"{base}/missing") as r:
            print(json.dumps({"check": "missing", "status": r.status, "body": await r.json()}))

        async def one(i):
            async with session.get(f"{base}/hello?name={i}") as r:
                return (await r.json())["greeting"]

        greetings = await asyncio.gather(*(one(i) for i in range(20)))
        print(json.dumps({"check": "concurrent", "count": len(set(greetings))}))


asyncio.run(main(sys.argv[1]))
