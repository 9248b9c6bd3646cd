"""The stack's ports are chosen where outgoing connections never land."""

from __future__ import annotations

import socket

from opsdesk_devstack.infra import _ephemeral_range, free_port


def test_ports_are_below_the_ephemeral_range_unique_and_bindable() -> None:
    low, _ = _ephemeral_range()
    ports = [free_port() for _ in range(50)]
    assert len(set(ports)) == 50
    assert all(p < low for p in ports)
    with socket.socket() as s:
        s.bind(("127.0.0.1", ports[-1]))


def test_a_port_someone_listens_on_is_never_handed_out() -> None:
    low, _ = _ephemeral_range()
    listeners = []
    try:
        for port in range(20000 if low > 21000 else 1024, low):
            s = socket.socket()
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                s.close()
                continue
            s.listen()
            listeners.append(s)
            if len(listeners) >= 300:
                break
        taken = {s.getsockname()[1] for s in listeners}
        assert all(free_port() not in taken for _ in range(30))
    finally:
        for s in listeners:
            s.close()
