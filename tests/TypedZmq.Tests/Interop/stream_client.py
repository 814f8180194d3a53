"""A TypedZmq client that reads a stream, written from docs/protocol.md ("Streams") alone, with pyzmq and no .NET.

Usage: python3 stream_client.py ENDPOINT read COUNT CREDIT
       python3 stream_client.py ENDPOINT hold
'read' opens TypedZmq.Tests.Contracts.IStreams.Count(COUNT), pulls every chunk with CREDIT and prints the items;
'hold' opens IStreams.Forever(), pulls one chunk, prints "holding" and waits to be killed.
"""
import struct
import sys
import time

import zmq

MAGIC, VERSION = 0x54, 1
REQUEST, REPLY, ERROR = 1, 2, 3
STREAM_PULL = 0x10  # flags bit 4
HEADER = struct.Struct("<BBBBIQIIq")  # magic, version, kind, status, flags, request id, service, method, deadline
SERVICE = "TypedZmq.Tests.Contracts.IStreams"


def fnv1a(text):
    h = 2166136261
    for b in text.encode("utf-8"):
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h


def call(sock, signature, payload, request_id, flags=0):
    header = HEADER.pack(MAGIC, VERSION, REQUEST, 0, (1 << 8) | flags, request_id, fnv1a(SERVICE), fnv1a(signature), 0)
    sock.send(header + payload)
    reply = sock.recv()
    _, _, kind, status, _, rid, _, _, _ = HEADER.unpack_from(reply)
    assert rid == request_id and kind == REPLY, "kind %d status %d" % (kind, status)
    return reply[HEADER.size:]


def chunk(payload, item_size, item_format):
    """A chunk is (bool more, T[] items): one byte, an int32 count, then the items."""
    more, count = struct.unpack_from("<?i", payload, 0)
    items = [struct.unpack_from(item_format, payload, 5 + i * item_size)[0] for i in range(count)]
    assert len(payload) == 5 + count * item_size
    return more, items


def main():
    endpoint, mode = sys.argv[1], sys.argv[2]
    ctx = zmq.Context()
    sock = ctx.socket(zmq.REQ)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.RCVTIMEO, 10000)
    sock.connect(endpoint)

    if mode == "read":
        count, credit = int(sys.argv[3]), int(sys.argv[4])
        stream_id = 1000
        more, items = chunk(call(sock, "Count(System.Int32)", struct.pack("<i", count), stream_id), 4, "<i")
        assert more and not items, "the open's reply says the stream is open, with no items yet"
        received, pulls, request_id = [], 0, stream_id
        while more:
            request_id += 1
            more, items = chunk(call(sock, "Count(System.Int32)", struct.pack("<Qi", stream_id, credit), request_id, STREAM_PULL), 4, "<i")
            assert len(items) <= credit
            received += items
            pulls += 1
        print("stream: %d items in order: %s, in %d pulls" % (len(received), received == list(range(count)), pulls))
    else:
        stream_id = 2000
        call(sock, "Forever()", b"", stream_id)
        more, items = chunk(call(sock, "Forever()", struct.pack("<Qi", stream_id, 4), stream_id + 1, STREAM_PULL), 8, "<q")
        print("holding after %d items" % len(items), flush=True)
        time.sleep(600)

    sock.close()
    ctx.term()


if __name__ == "__main__":
    main()
