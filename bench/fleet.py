"""A fleet of simulated SNMPv2c devices on 127.0.0.1, cheap enough not to be what a benchmark measures.

    python bench/fleet.py --devices 2500 --interfaces 24 --community bench [--cpu 1]

One process, one UDP socket per device (each on its own port), one epoll
loop. Every device serves the same IF-MIB shape: the system group, ifNumber,
ifTableLastChange, and ``--interfaces`` rows of ifTable and ifXTable, whose
octet counters advance with time (each interface at its own rate) and whose
sysUpTime counts from the start. GET, GETNEXT and GETBULK are answered from a
sorted OID list shared by all devices; values are computed when asked.

Responses are encoded here with a minimal BER encoder (requests are read with
the agent's own decoder, collectors/snmp/ber.py): a request of 40 varbinds
costs about 0.1 ms, so a 2,500-device fleet polled every 30 s keeps this
process at a few per cent of a core, which it reports (``stats``) so that a
result is never simulator-bound without saying so.

On start it prints one JSON line ``{"ports": [...], "control": PORT}``; a UDP
datagram ``stats`` to the control port answers with JSON counters (requests,
varbinds, bytes sent, CPU seconds of this process), ``reset`` zeroes them.
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import selectors
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from collectors.snmp import ber  # noqa: E402

HOST = "127.0.0.1"
Oid = tuple[int, ...]


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(raw),)) + raw


def tlv(tag: int, content: bytes) -> bytes:
    return bytes((tag,)) + _length(len(content)) + content


def integer(tag: int, value: int) -> bytes:
    """A BER integer; the unsigned application types get their sign byte as BER requires."""
    size = max(1, (value.bit_length() + 8) // 8)  # room for the sign bit
    return tlv(tag, value.to_bytes(size, "big", signed=True))


def oid_tlv(oid: Oid) -> bytes:
    return tlv(ber.OBJECT_IDENTIFIER, ber.oid_bytes(oid))


ValueOf = Callable[[int, float], bytes]  # (device number, seconds since start) -> value TLV


@dataclass(frozen=True, slots=True)
class Row:
    oid: Oid
    name: bytes  # BER content of the OID, as requests carry it
    encoded_name: bytes  # the OID's TLV, as responses carry it
    value: ValueOf


def _const(tag: int, value: int | bytes) -> ValueOf:
    encoded = tlv(tag, value) if isinstance(value, bytes) else integer(tag, value)
    return lambda device, t: encoded


def _counter(tag: int, rate: float, base: int, modulo: int) -> ValueOf:
    return lambda device, t: integer(tag, int(base * (device + 1) + rate * t) % modulo)


def if_mib(interfaces: int) -> list[Row]:
    """The OIDs every device serves, sorted."""
    system = (1, 3, 6, 1, 2, 1, 1)
    if_entry = (1, 3, 6, 1, 2, 1, 2, 2, 1)
    ifx_entry = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1)
    rows: list[tuple[Oid, ValueOf]] = [
        (system + (1, 0), _const(ber.OCTET_STRING, b"sla-agent bench fleet device")),
        (system + (2, 0), lambda d, t: oid_tlv((1, 3, 6, 1, 4, 1, 8072, 3, 2, 10))),
        (system + (3, 0), lambda d, t: integer(ber.TIME_TICKS, int(t * 100) + 360_000)),
        (system + (5, 0), lambda d, t: tlv(ber.OCTET_STRING, b"dev%d" % d)),
        ((1, 3, 6, 1, 2, 1, 2, 1, 0), _const(ber.INTEGER, interfaces)),
        ((1, 3, 6, 1, 2, 1, 31, 1, 5, 0), _const(ber.TIME_TICKS, 100)),
    ]
    for i in range(1, interfaces + 1):
        name = b"GigabitEthernet0/0/%d" % i
        speed_mbps = 10_000 if i <= 4 else 1_000
        rate = speed_mbps * 1e6 / 8 * (0.05 + 0.4 * ((i * 37) % 10) / 10)  # bytes/s, below line rate
        rows += [
            (if_entry + (1, i), _const(ber.INTEGER, i)),
            (if_entry + (2, i), _const(ber.OCTET_STRING, name)),
            (if_entry + (3, i), _const(ber.INTEGER, 6)),
            (if_entry + (4, i), _const(ber.INTEGER, 1500)),
            (if_entry + (5, i), _const(ber.GAUGE32, min(speed_mbps * 1_000_000, 2**32 - 1))),
            (if_entry + (6, i), _const(ber.OCTET_STRING, bytes((0, 0x1B, 0x21, 0, 0, i % 256)))),
            (if_entry + (7, i), _const(ber.INTEGER, 1)),
            (if_entry + (8, i), _const(ber.INTEGER, 1)),
            (if_entry + (9, i), _const(ber.TIME_TICKS, 50)),
            (if_entry + (10, i), _counter(ber.COUNTER32, rate, 1_000_003 * i, 2**32)),
            (if_entry + (11, i), _counter(ber.COUNTER32, rate / 800, 1_009 * i, 2**32)),
            (if_entry + (13, i), _const(ber.COUNTER32, 0)),
            (if_entry + (14, i), _const(ber.COUNTER32, 0)),
            (if_entry + (16, i), _counter(ber.COUNTER32, rate / 3, 2_000_003 * i, 2**32)),
            (if_entry + (17, i), _counter(ber.COUNTER32, rate / 2400, 2_011 * i, 2**32)),
            (if_entry + (19, i), _const(ber.COUNTER32, 0)),
            (if_entry + (20, i), _const(ber.COUNTER32, 0)),
            (ifx_entry + (1, i), _const(ber.OCTET_STRING, b"Gi0/0/%d" % i)),
            (ifx_entry + (6, i), _counter(ber.COUNTER64, rate, 10**12 * i, 2**64)),
            (ifx_entry + (10, i), _counter(ber.COUNTER64, rate / 3, 2 * 10**12 * i, 2**64)),
            (ifx_entry + (15, i), _const(ber.GAUGE32, speed_mbps)),
            (ifx_entry + (18, i), _const(ber.OCTET_STRING, b"UPLINK-%d" % i)),
        ]
    rows.sort(key=lambda r: r[0])
    return [Row(oid, ber.oid_bytes(oid), oid_tlv(oid), value) for oid, value in rows]


_NO_SUCH_INSTANCE = tlv(ber.NO_SUCH_INSTANCE, b"")
_END_OF_MIB = tlv(ber.END_OF_MIB_VIEW, b"")


class Fleet:
    """Answers every device's requests; counts what it sends."""

    def __init__(self, devices: int, interfaces: int, community: bytes) -> None:
        self.community = community
        self.rows = if_mib(interfaces)
        self.oids = [row.oid for row in self.rows]
        self.by_name = {row.name: row for row in self.rows}
        self.started = time.monotonic()
        self.selector = selectors.EpollSelector()
        self.sockets: list[socket.socket] = []
        for number in range(devices):
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            sock.bind((HOST, 0))
            sock.setblocking(False)
            self.selector.register(sock, selectors.EVENT_READ, number)
            self.sockets.append(sock)
        self.control = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.control.bind((HOST, 0))
        self.control.setblocking(False)
        self.selector.register(self.control, selectors.EVENT_READ, -1)
        self.reset()

    def reset(self) -> None:
        self.requests = self.varbinds = self.bytes_sent = self.malformed = 0
        self.cpu_at_reset = time.process_time()

    def stats(self) -> dict[str, float]:
        return {"requests": self.requests, "varbinds": self.varbinds, "bytes_sent": self.bytes_sent,
                "malformed": self.malformed, "cpu_seconds": time.process_time() - self.cpu_at_reset}

    def answer(self, device: int, request: ber.Message) -> bytes:
        t = time.monotonic() - self.started
        varbinds: list[bytes] = []
        if request.pdu_type == ber.GET_REQUEST:
            for name, _ in request.varbinds:
                row = self.by_name.get(name)
                if row is None:
                    varbinds.append(tlv(ber.SEQUENCE, tlv(ber.OBJECT_IDENTIFIER, name) + _NO_SUCH_INSTANCE))
                else:
                    varbinds.append(tlv(ber.SEQUENCE, row.encoded_name + row.value(device, t)))
        else:
            repetitions = request.error_index if request.pdu_type == ber.GET_BULK_REQUEST else 1
            columns = []
            for name, _ in request.varbinds:
                at = bisect.bisect_right(self.oids, ber.decode_oid(name))
                columns.append(self.rows[at : at + repetitions])
            last = {i: name for i, (name, _) in enumerate(request.varbinds)}
            for r in range(repetitions):
                for c, rows in enumerate(columns):
                    if r < len(rows):
                        row = rows[r]
                        varbinds.append(tlv(ber.SEQUENCE, row.encoded_name + row.value(device, t)))
                    else:  # past the last OID: endOfMibView, with the OID it could not pass
                        name = rows[-1].name if rows else last[c]
                        varbinds.append(tlv(ber.SEQUENCE, tlv(ber.OBJECT_IDENTIFIER, name) + _END_OF_MIB))
        self.varbinds += len(varbinds)
        pdu = (integer(ber.INTEGER, request.request_id) + integer(ber.INTEGER, 0) + integer(ber.INTEGER, 0)
               + tlv(ber.SEQUENCE, b"".join(varbinds)))
        return tlv(ber.SEQUENCE, integer(ber.INTEGER, 1) + tlv(ber.OCTET_STRING, self.community)
                   + tlv(ber.RESPONSE, pdu))

    def serve(self) -> None:
        while True:
            for key, _ in self.selector.select(timeout=1.0):
                sock: socket.socket = key.fileobj  # type: ignore[assignment]
                for _ in range(64):  # drain, bounded per wake-up
                    try:
                        data, addr = sock.recvfrom(65535)
                    except BlockingIOError:
                        break
                    if key.data < 0:
                        self._control(data, addr)
                        continue
                    try:
                        request = ber.decode_message(data)
                    except ber.BerError:
                        self.malformed += 1
                        continue
                    if request.community != self.community:
                        continue  # as agents do: silence for a wrong community
                    self.requests += 1
                    reply = self.answer(key.data, request)
                    self.bytes_sent += len(reply)
                    sock.sendto(reply, addr)

    def _control(self, data: bytes, addr: tuple[str, int]) -> None:
        command = data.strip()
        if command == b"reset":
            self.reset()
        self.control.sendto(json.dumps(self.stats()).encode(), addr)


def query(control_port: int, command: bytes = b"stats", timeout: float = 5.0) -> dict[str, float]:
    """Ask a running fleet for its counters (``reset`` zeroes them first)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.sendto(command, (HOST, control_port))
        data, _ = sock.recvfrom(65535)
    return json.loads(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=100)
    parser.add_argument("--interfaces", type=int, default=24)
    parser.add_argument("--community", default="bench")
    parser.add_argument("--cpu", type=int, default=None, help="pin this process to one CPU")
    args = parser.parse_args()
    if args.cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})
    fleet = Fleet(args.devices, args.interfaces, args.community.encode())
    print(json.dumps({"ports": [s.getsockname()[1] for s in fleet.sockets],
                      "control": fleet.control.getsockname()[1]}), flush=True)
    try:
        fleet.serve()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
