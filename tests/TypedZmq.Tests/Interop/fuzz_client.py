"""Fuzzes a TypedZmq server from libzmq (pyzmq): random and truncated multi-frame messages from a DEALER that
imitates a REQ peer (empty delimiter first). Every message must get exactly one reply.

Usage: python3 fuzz_client.py ENDPOINT COUNT SEED   -> prints "replies N"
"""
import random
import struct
import sys

import zmq


def fnv1a(text):
    h = 2166136261
    for b in text.encode("utf-8"):
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h


def message(rng, index):
    kind = rng.randrange(4)
    if kind == 0:  # pure noise, one to four frames
        return [rng.randbytes(rng.randrange(0, 80)) for _ in range(rng.randrange(1, 5))]
    header = struct.pack("<BBBBIQIIq", 0x54, rng.choice([1, 1, 1, 2]), rng.randrange(0, 5), 0, 0, index,
                         rng.choice([fnv1a("TypedZmq.Tests.Contracts.IShapes"), rng.getrandbits(32)]),
                         rng.choice([fnv1a("Add(System.Int32,System.Int32)"), fnv1a("Echo(System.String)"), rng.getrandbits(32)]),
                         rng.choice([0, 1]))
    body = header + rng.randbytes(rng.randrange(0, 40))
    if kind == 1:  # truncated
        return [body[:rng.randrange(0, len(body))]]
    if kind == 2:  # extra frames
        return [body, rng.randbytes(5)]
    return [body]


def main():
    endpoint, count, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(seed)
    ctx = zmq.Context()
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.RCVTIMEO, 5000)
    sock.connect(endpoint)
    replies = 0
    sent = 0
    while sent < count:
        batch = min(100, count - sent)  # read replies as we go: a REP drops replies past the high-water mark
        for i in range(batch):
            sock.send_multipart([b""] + message(rng, sent + i))
        for _ in range(batch):
            frames = sock.recv_multipart()
            assert frames[0] == b"" and len(frames) == 2 and frames[1][0] == 0x54, frames
            replies += 1
        sent += batch
    print("replies %d" % replies)
    sock.close()
    ctx.term()


if __name__ == "__main__":
    main()
