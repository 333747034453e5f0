"""Sockets the API listens on turn Nagle's algorithm off for every connection (TCP_NODELAY).

asyncio sets TCP_NODELAY only on sockets whose proto is TCP, and an accepted socket copies its
listener's; a listener made with proto 0 left Nagle on, and each response (headers and body
written separately) waited ~40 ms for the client's delayed ACK on a kept-alive connection.
Checked on the accepted connection's own socket, as uvicorn's asyncio transport has it.
"""

from __future__ import annotations

import asyncio
import socket

import pytest

from api_helpers import free_socket
from leadgate.api.server import listening_socket


def _nodelay_of_accepted(sock: socket.socket) -> int:
    async def main() -> int:
        accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        class Probe(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                conn = transport.get_extra_info("socket")
                accepted.set_result(conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        server = await asyncio.get_running_loop().create_server(Probe, sock=sock)
        host, port = sock.getsockname()[:2]
        _, writer = await asyncio.open_connection(host, port)
        try:
            return await asyncio.wait_for(accepted, 10)
        finally:
            writer.close()
            server.close()

    return asyncio.run(main())


@pytest.mark.parametrize("make", ["serve --workers", "test servers"])
def test_accepted_connections_have_nagle_off(make: str) -> None:
    sock = listening_socket("127.0.0.1", 0) if make == "serve --workers" else free_socket()
    try:
        assert _nodelay_of_accepted(sock) != 0
    finally:
        sock.close()
