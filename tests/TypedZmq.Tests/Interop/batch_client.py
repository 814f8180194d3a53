"""A TypedZmq client that sends batches, written from docs/protocol.md ("Batches") alone, with pyzmq and no .NET.

Usage: python3 batch_client.py ENDPOINT
Connects a DEALER to a concurrent server, makes one call saying it reads batches (flag bit 2) and prints whether the
server's reply invites batches; then sends three SayHello requests in one batch and prints how the replies came back.
"""
import struct
import sys

import zmq

MAGIC, VERSION = 0x54, 1
REQUEST, REPLY, BATCH = 1, 2, 7
BATCHES_WELCOME = 0x4  # flags bit 2
HEADER = struct.Struct("<BBBBIQIIq")  # magic, version, kind, status, flags, request id, service, method, deadline


def fnv1a(text):
    h = 2166136261
    for b in text.encode("utf-8"):
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h


def write_string(text):
    data = text.encode("utf-8")
    return struct.pack("<ii", ~len(data), len(text.encode("utf-16-le")) // 2) + data


def read_string(buf, offset):
    (n,) = struct.unpack_from("<i", buf, offset)
    if n >= 0:
        return buf[offset + 4:offset + 4 + 2 * n].decode("utf-16-le")
    return buf[offset + 8:offset + 8 + ~n].decode("utf-8")


def say_hello(request_id, text):
    flags = (1 << 8) | BATCHES_WELCOME  # attempt 1; this client reads batched replies
    header = HEADER.pack(MAGIC, VERSION, REQUEST, 0, flags, request_id,
                         fnv1a("HelloWorld.Contracts.IGreeter"), fnv1a("SayHello(System.String)"), 0)
    return header + write_string(text)


def messages_of(frame):
    """A batch's messages (uint32 length, then the message), or the frame itself if it is a single message."""
    if frame[2] != BATCH:
        return [frame]
    offset, messages = HEADER.size, []
    while offset < len(frame):
        (length,) = struct.unpack_from("<I", frame, offset)
        messages.append(frame[offset + 4:offset + 4 + length])
        offset += 4 + length
    return messages


def main():
    ctx = zmq.Context()
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.RCVTIMEO, 5000)
    sock.connect(sys.argv[1])

    sock.send_multipart([b"", say_hello(1, "Hello")])  # the empty delimiter a REQ socket would send
    _, reply = sock.recv_multipart()
    flags = HEADER.unpack_from(reply)[4]
    print("invited: %s" % bool(flags & BATCHES_WELCOME))

    requests = [say_hello(request_id, "Hello") for request_id in (2, 3, 4)]
    batch = HEADER.pack(MAGIC, VERSION, BATCH, 0, 0, 0, 0, 0, 0) + b"".join(struct.pack("<I", len(r)) + r for r in requests)
    sock.send_multipart([b"", batch])
    replies, frames = {}, 0
    while len(replies) < 3:
        _, frame = sock.recv_multipart()
        frames += 1
        for message in messages_of(frame):
            _, _, kind, status, _, request_id, _, _, _ = HEADER.unpack_from(message)
            assert kind == REPLY, "kind %d status %d" % (kind, status)
            replies[request_id] = read_string(message, HEADER.size)
    print("batched replies: %s in %d message(s)" % (" ".join("%d=%s" % item for item in sorted(replies.items())), frames))

    sock.close()
    ctx.term()


if __name__ == "__main__":
    main()
