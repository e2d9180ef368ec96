"""A TCP proxy that can slow a link down, as a congested or far-away network would.

Everything sent towards the target reaches it `--delay-ms` later, in order and without holding
up what follows, so each round trip over the link takes that much longer. SIGUSR1 turns the
delay on, SIGUSR2 turns it off; it starts off. A connection the target closes is closed on the
client's side too, so a server restart looks to clients as it would without the proxy.

    python bench/delay_proxy.py --listen 15432 --target 5432 --delay-ms 200
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import time

CHUNK_BYTES = 65536


class Link:
    def __init__(self, delay_seconds: float) -> None:
        self.delay_seconds = delay_seconds
        self.delaying = False

    async def pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delayed: bool
    ) -> None:
        """Copy until EOF; the delayed direction holds each chunk until its time comes."""
        in_transit: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                due, chunk = await in_transit.get()
                if not chunk:
                    break
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                try:
                    writer.write(chunk)
                    await writer.drain()
                except ConnectionError:
                    break

        delivering = asyncio.create_task(deliver())
        try:
            with contextlib.suppress(ConnectionError):
                while chunk := await reader.read(CHUNK_BYTES):
                    if delivering.done():  # the other end is gone
                        break
                    lag = self.delay_seconds if delayed and self.delaying else 0.0
                    in_transit.put_nowait((time.monotonic() + lag, chunk))
            in_transit.put_nowait((0.0, b""))
            await delivering
        finally:
            delivering.cancel()
            with contextlib.suppress(Exception):
                writer.close()

    async def serve_client(
        self,
        client_reader: asyncio.StreamReader,
        client_writer: asyncio.StreamWriter,
        target_port: int,
    ) -> None:
        try:
            target_reader, target_writer = await asyncio.open_connection("127.0.0.1", target_port)
        except OSError:
            client_writer.close()
            return
        towards = asyncio.create_task(self.pipe(client_reader, target_writer, delayed=True))
        back = asyncio.create_task(self.pipe(target_reader, client_writer, delayed=False))
        # When either side goes, so does the other: a restarted server drops its clients.
        _done, pending = await asyncio.wait({towards, back}, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        for writer in (client_writer, target_writer):
            with contextlib.suppress(Exception):
                writer.close()


async def serve(listen_port: int, target_port: int, delay_seconds: float) -> None:
    link = Link(delay_seconds)
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGUSR1, lambda: setattr(link, "delaying", True))
    loop.add_signal_handler(signal.SIGUSR2, lambda: setattr(link, "delaying", False))
    server = await asyncio.start_server(
        lambda r, w: link.serve_client(r, w, target_port), "127.0.0.1", listen_port
    )
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", type=int, required=True, help="port to accept clients on")
    parser.add_argument("--target", type=int, required=True, help="port on 127.0.0.1 to reach")
    parser.add_argument("--delay-ms", type=float, default=200.0)
    args = parser.parse_args()
    asyncio.run(serve(args.listen, args.target, args.delay_ms / 1000))


if __name__ == "__main__":
    main()
