"""A TypedZmq client written from docs/protocol.md alone, with pyzmq and no .NET.

Usage: python3 typed_client.py ENDPOINT [PAUSE_SECONDS]
Calls HelloWorld.Contracts.IGreeter.SayHello("Hello") and prints the typed reply, calls it again with request metadata
(flag bit 0 and a metadata block after the header), then sends a plain "Hello" frame the way a non-TypedZmq peer would
and prints the error the server sends back.
"""
import struct
import sys
import time

import zmq

MAGIC, VERSION = 0x54, 1
REQUEST, REPLY, ERROR = 1, 2, 3
STATUS = {0: "Ok", 1: "Cancelled", 2: "DeadlineExceeded", 3: "Unavailable", 4: "Unimplemented",
          5: "BadRequest", 6: "UnsupportedVersion", 7: "RemoteError", 8: "Internal", 9: "Unauthenticated",
          10: "PermissionDenied", 11: "ResourceExhausted"}
HAS_METADATA = 0x1  # flags bit 0; bits 8-15 carry the attempt number
HEADER = struct.Struct("<BBBBIQIIq")  # magic, version, kind, status, flags, request id, service, method, deadline


def fnv1a(text):
    h = 2166136261
    for b in text.encode("utf-8"):
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h


def write_string(text):
    if text is None:
        return struct.pack("<i", -1)
    data = text.encode("utf-8")
    return struct.pack("<ii", ~len(data), len(text.encode("utf-16-le")) // 2) + data


def read_string(buf, offset):
    (n,) = struct.unpack_from("<i", buf, offset)
    offset += 4
    if n == -1:
        return None, offset
    if n >= 0:
        return buf[offset:offset + 2 * n].decode("utf-16-le"), offset + 2 * n
    size = ~n
    offset += 4  # UTF-16 length: a hint for decoders, not needed here
    return buf[offset:offset + size].decode("utf-8"), offset + size


def metadata_block(entries):
    """uint32 length of what follows, then per entry: uint8 key length, ASCII key, uint32 value length, value."""
    body = b"".join(struct.pack("<B", len(k)) + k.encode("ascii") + struct.pack("<I", len(v)) + v for k, v in entries)
    return struct.pack("<I", len(body)) + body


def call(sock, service, signature, payload, request_id, metadata=None):
    flags = (1 << 8) | (HAS_METADATA if metadata else 0)  # attempt 1
    header = HEADER.pack(MAGIC, VERSION, REQUEST, 0, flags, request_id, fnv1a(service), fnv1a(signature), 0)
    block = metadata_block(metadata) if metadata else b""
    sock.send(header + block + payload)  # one frame: the 32-byte header, the metadata block if any, then the payload
    reply = sock.recv()
    magic, version, kind, status, _, rid, _, _, _ = HEADER.unpack_from(reply)
    reply_payload = reply[HEADER.size:]
    assert (magic, version, rid) == (MAGIC, VERSION, request_id), "not a reply to this request"
    if kind == ERROR:
        exc_type, offset = read_string(reply_payload, 0)
        message, offset = read_string(reply_payload, offset)
        raise RuntimeError("%s: %s" % (STATUS[status], message))
    return reply_payload


def main():
    endpoint = sys.argv[1]
    ctx = zmq.Context()
    sock = ctx.socket(zmq.REQ)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.RCVTIMEO, 5000)
    sock.connect(endpoint)

    payload = call(sock, "HelloWorld.Contracts.IGreeter", "SayHello(System.String)", write_string("Hello"), 1)
    reply, _ = read_string(payload, 0)
    print("typed reply: %s" % reply)

    if len(sys.argv) > 2:
        time.sleep(float(sys.argv[2]))  # idle: a server with heartbeats pings, and libzmq must answer to stay connected

    payload = call(sock, "HelloWorld.Contracts.IGreeter", "SayHello(System.String)", write_string("Hello"), 2,
                   metadata=[("x-trace", b"py-123"), ("x-bin", b"\x00\xff")])
    reply, _ = read_string(payload, 0)
    print("typed reply with metadata: %s" % reply)

    sock.send(b"Hello")
    reply = sock.recv()
    _, _, kind, status, _, _, _, _, _ = HEADER.unpack_from(reply)
    message, _ = read_string(reply, read_string(reply, HEADER.size)[1])
    print("plain Hello: kind=%d status=%s message=%s" % (kind, STATUS[status], message))

    sock.close()
    ctx.term()


if __name__ == "__main__":
    main()
