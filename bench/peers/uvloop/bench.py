# Peer benchmark: the asyncio programs of ../python/bench.py run on uvloop's event loop.
import os, sys
import uvloop

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import bench  # noqa: E402

if __name__ == "__main__":
    bench.main("uvloop", {"loop_factory": uvloop.new_event_loop})
