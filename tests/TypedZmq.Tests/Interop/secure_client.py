"""A TypedZmq secure-mode client written from docs/protocol.md alone, with pyzmq and PyNaCl and no .NET.

Usage: python3 secure_client.py ENDPOINT SERVER_PUBLIC_KEY_Z85 CLIENT_SECRET_KEY_Z85
Calls HelloWorld.Contracts.IGreeter.SayHello("Hello") sealed with the client's key for the server's key, opens the
sealed reply and prints it; then sends the same sealed bytes again (a replay) and a plain request, and prints the
refusals the server sends back in the clear.
"""
import os
import struct
import sys
import time

import zmq
from nacl.public import Box, PrivateKey, PublicKey
from zmq.utils import z85

from typed_client import ERROR, HEADER, MAGIC, REPLY, REQUEST, STATUS, VERSION, fnv1a, read_string, write_string

SEALED_REQUEST, SEALED_REPLY = 4, 5
TO_SERVER, TO_CLIENT = 1, 2


class Sealer:
    """crypto_box (X25519, XSalsa20, Poly1305) between this client's key pair and the pinned server key."""

    def __init__(self, server_public, client_secret):
        secret = PrivateKey(client_secret)
        self.public = bytes(secret.public_key)
        self.server_public = server_public
        self.box = Box(secret, PublicKey(server_public))
        self.session = os.urandom(7)  # names this sender's session in every nonce
        self.counter = 0  # counts up from 1: the server refuses a (session, counter) it has seen

    def seal(self, request_id, inner):
        self.counter += 1
        nonce = bytes([TO_SERVER]) + self.session + struct.pack("<Qq", self.counter, int(time.time() * 1000))
        outer = HEADER.pack(MAGIC, VERSION, SEALED_REQUEST, 0, 0, request_id, 0, 0, 0)
        sealed = self.box.encrypt(self.server_public + inner, nonce).ciphertext  # the recipient's key, then the request
        return outer + self.public + nonce + sealed  # sealed: the tag, then the ciphertext

    def open(self, frame, request_id):
        """The plain reply inside a sealed one; an unsealed error (a refusal) as it is."""
        _, _, kind, _, _, rid, _, _, _ = HEADER.unpack_from(frame)
        assert rid == request_id, "not a reply to this request"
        if kind == ERROR:
            return frame
        assert kind == SEALED_REPLY, "the server did not seal its reply"
        nonce = frame[HEADER.size:HEADER.size + 24]
        assert nonce[0] == TO_CLIENT, "not a reply nonce"
        plain = self.box.decrypt(frame[HEADER.size + 24:], nonce)  # raises if not sealed by the pinned server
        assert plain[:32] == self.public, "sealed for another client"
        return plain[32:]


def describe_error(frame):
    _, _, kind, status, _, _, _, _, _ = HEADER.unpack_from(frame)
    _, offset = read_string(frame[HEADER.size:], 0)
    message, _ = read_string(frame[HEADER.size:], offset)
    return "kind=%d status=%s message=%s" % (kind, STATUS[status], message)


def main():
    endpoint, server_public, client_secret = sys.argv[1], z85.decode(sys.argv[2]), z85.decode(sys.argv[3])
    sealer = Sealer(server_public, client_secret)
    ctx = zmq.Context()
    sock = ctx.socket(zmq.REQ)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.RCVTIMEO, 5000)
    sock.connect(endpoint)

    request_id = 41
    inner = HEADER.pack(MAGIC, VERSION, REQUEST, 0, 1 << 8, request_id, fnv1a("HelloWorld.Contracts.IGreeter"),
                        fnv1a("SayHello(System.String)"), 0) + write_string("Hello")
    sealed = sealer.seal(request_id, inner)
    sock.send(sealed)
    plain = sealer.open(sock.recv(), request_id)
    _, _, kind, status, _, rid, _, _, _ = HEADER.unpack_from(plain)
    assert (kind, rid) == (REPLY, request_id), describe_error(plain)
    reply, _ = read_string(plain[HEADER.size:], 0)
    print("secure reply: %s" % reply)

    sock.send(sealed)  # the same bytes again, as an attacker who captured them would
    print("replay: %s" % describe_error(sealer.open(sock.recv(), request_id)))  # authentic but seen: a sealed refusal

    sock.send(inner)  # the plain request, without the seal
    print("plain request: %s" % describe_error(sock.recv()))
    sock.close()
    ctx.term()


if __name__ == "__main__":
    main()
