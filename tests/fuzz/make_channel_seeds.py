#!/usr/bin/env python3
"""Write the seed inputs of fuzz_channel (tests/fuzz/fuzz_channel.c).

Usage: make_channel_seeds.py DIR

An input is a profile byte, then records of u32 length | payload; a
payload starting with 0 is a harness event (see fz_event), anything else
an SSH message of the connection protocol.
"""
import os
import struct
import sys

GLOBAL_REQUEST, REQUEST_SUCCESS = 80, 81
OPEN, OPEN_CONFIRMATION, OPEN_FAILURE, WINDOW_ADJUST = 90, 91, 92, 93
DATA, EXTENDED_DATA, EOF, CLOSE, REQUEST = 94, 95, 96, 97, 98
PING = 192

P_FORCED, P_PWCHANGE, P_RESTRICT, P_PERMITOPEN = 0x01, 0x02, 0x04, 0x08
P_AGENT, P_TIMERS, P_PROVE, P_SLOW = 0x10, 0x20, 0x40, 0x80


def u32(v):
    return struct.pack(">I", v)


def s(v):
    if isinstance(v, str):
        v = v.encode()
    return u32(len(v)) + v


def b(v):
    return bytes([1 if v else 0])


class Seed:
    def __init__(self, profile):
        self.out = bytearray([profile])

    def rec(self, payload):
        self.out += u32(len(payload)) + payload

    def msg(self, mtype, body=b""):
        self.rec(bytes([mtype]) + body)

    def event(self, what, which=0, data=b""):
        self.rec(bytes([0, what, which]) + data)

    def open_session(self, peer):
        self.msg(OPEN, s("session") + u32(peer) + u32(2097152) + u32(32768))

    def req(self, chan, name, reply, body=b""):
        self.msg(REQUEST, u32(chan) + s(name) + b(reply) + body)

    def greq(self, name, reply, body=b""):
        self.msg(GLOBAL_REQUEST, s(name) + b(reply) + body)

    def data(self, chan, text):
        self.msg(DATA, u32(chan) + s(text))

    def save(self, d, name):
        with open(os.path.join(d, name), "wb") as f:
            f.write(self.out)


PTY_MODES = bytes([53]) + u32(1) + bytes([128]) + u32(38400) + \
    bytes([129]) + u32(38400) + bytes([1]) + u32(3) + bytes([0])


def main(d):
    os.makedirs(d, exist_ok=True)

    x = Seed(P_AGENT)
    x.open_session(0)
    x.req(0, "pty-req", 1, s("xterm-256color") + u32(80) + u32(24) +
          u32(640) + u32(480) + s(PTY_MODES))
    x.req(0, "env", 1, s("LANG") + s("C.UTF-8"))
    x.req(0, "env", 1, s("LD_PRELOAD") + s("/tmp/x.so"))
    x.req(0, "auth-agent-req@openssh.com", 1)
    x.req(0, "x11-req", 1, b(0) + s("MIT-MAGIC-COOKIE-1") +
          s("0123456789abcdef0123456789abcdef") + u32(0))
    x.req(0, "shell", 1)
    x.req(0, "window-change", 0, u32(100) + u32(40) + u32(0) + u32(0))
    x.event(2, 0, b"$ hello from the shell\r\n")
    x.data(0, "ls -l\r")
    x.event(5, 0)
    x.msg(WINDOW_ADJUST, u32(0) + u32(65536))
    x.req(0, "break", 0, u32(500))
    x.msg(EOF, u32(0))
    x.event(1, 0, bytes([0]))
    x.event(0)
    x.msg(CLOSE, u32(0))
    x.event(0)
    x.save(d, "shell-pty")

    x = Seed(0)
    x.open_session(7)
    x.req(0, "env", 1, s("FUZZ_X") + s("1"))
    x.req(0, "exec", 1, s("echo hi; cat"))
    x.req(0, "exec", 1, s("second exec refused"))
    x.data(0, "some input\n")
    x.msg(EXTENDED_DATA, u32(0) + u32(1) + s("stderr from the client"))
    x.event(2, 0, b"hi\n")
    x.event(3, 0, b"warning\n")
    x.req(0, "signal", 1, s("TERM"))
    x.req(0, "signal", 1, s("NOSUCH"))
    x.event(4, 0)
    x.event(1, 0, bytes([0x80 | 15]))
    x.event(0)
    x.msg(CLOSE, u32(0))
    x.save(d, "exec-signal")

    x = Seed(0)
    for i, name in enumerate(["sftp", "internal", "bad", "odd", "nosuch"]):
        x.open_session(i)
        x.req(i, "subsystem", 1, s(name))
    x.data(1, b"\x00\x00\x00\x05\x01\x00\x00\x00\x03")
    x.event(9, 0, bytes([0]))
    x.event(2, 0, b"sftp-server output")
    x.event(1, 0, bytes([1]))
    for i in range(5):
        x.msg(CLOSE, u32(i))
    x.event(0)
    x.save(d, "subsystems")

    x = Seed(P_PERMITOPEN)
    x.greq("tcpip-forward", 1, s("127.0.0.1") + u32(0))
    x.greq("tcpip-forward", 1, s("localhost") + u32(8022))
    x.greq("cancel-tcpip-forward", 1, s("127.0.0.1") + u32(0))
    x.greq("streamlocal-forward@openssh.com", 1, s("/tmp/fwd.sock"))
    x.greq("cancel-streamlocal-forward@openssh.com", 1, s("/tmp/fwd.sock"))
    x.greq("no-more-sessions@openssh.com", 0)
    x.greq("keepalive@openssh.com", 1)
    x.msg(OPEN, s("direct-tcpip") + u32(1) + u32(65536) + u32(16384) +
          s("127.0.0.1") + u32(7) + s("198.51.100.2") + u32(40000))
    x.msg(OPEN, s("direct-tcpip") + u32(2) + u32(65536) + u32(16384) +
          s("10.1.2.3") + u32(8) + s("198.51.100.2") + u32(40001))
    x.msg(OPEN, s("direct-tcpip") + u32(3) + u32(65536) + u32(16384) +
          s("localhost") + u32(22) + s("198.51.100.2") + u32(40002))
    x.event(0)
    x.data(0, "GET / HTTP/1.0\r\n\r\n")
    x.event(6, 0, b"HTTP/1.0 200 OK\r\n\r\n")
    x.event(6, 1, b"more")
    x.event(7, 0)
    x.event(0)
    x.msg(EOF, u32(1))
    x.msg(CLOSE, u32(0))
    x.msg(CLOSE, u32(1))
    x.open_session(9)
    x.save(d, "forward-permitopen")

    x = Seed(0)
    x.greq("tcpip-forward", 1, s("") + u32(0))
    x.msg(OPEN, s("direct-tcpip") + u32(1) + u32(65536) + u32(16384) +
          s("::1") + u32(5) + s("::1") + u32(40000))
    x.msg(OPEN, s("direct-tcpip") + u32(2) + u32(65536) + u32(16384) +
          s("example.org") + u32(80) + s("::1") + u32(40000))
    x.msg(OPEN, s("direct-tcpip") + u32(3) + u32(65536) + u32(16384) +
          s("127.0.0.1") + u32(9) + s("::1") + u32(40000))
    x.msg(OPEN, s("direct-streamlocal@openssh.com") + u32(4) +
          u32(65536) + u32(16384) + s("/run/x.sock") + s("") + u32(0))
    x.msg(OPEN, s("tun@openssh.com") + u32(5) + u32(65536) + u32(16384) +
          u32(1) + u32(0x7fffffff))
    x.msg(OPEN, s("x11") + u32(6) + u32(65536) + u32(16384))
    x.event(0)
    x.event(0)
    x.event(6, 0, b"SSH-2.0-x\r\n")
    x.data(0, "client bytes")
    x.msg(WINDOW_ADJUST, u32(0) + u32(0xffffffff))
    x.msg(PING, s("ping"))
    x.msg(REQUEST_SUCCESS)
    x.msg(50, s("late userauth"))
    x.msg(150, s("unknown"))
    x.save(d, "open-types")

    x = Seed(P_TIMERS | P_AGENT)
    x.open_session(0)
    x.req(0, "auth-agent-req@openssh.com", 1)
    x.req(0, "exec", 1, s("sleep 100"))
    x.event(8, 3)
    x.event(8, 3)
    x.msg(REQUEST_SUCCESS)
    x.event(8, 10)
    x.event(8, 70)
    x.save(d, "timers")

    x = Seed(P_PWCHANGE | P_FORCED)
    x.open_session(0)
    x.req(0, "pty-req", 1, s("vt100") + u32(80) + u32(24) + u32(0) +
          u32(0) + s(b"\x00"))
    x.req(0, "exec", 1, s("ls"))
    x.event(2, 0, b"You must change your password now\n")
    x.event(1, 0, bytes([1]))
    x.event(0)
    x.save(d, "pwchange")

    x = Seed(P_RESTRICT | P_FORCED | P_PERMITOPEN)
    x.open_session(0)
    x.req(0, "pty-req", 1, s("vt100") + u32(80) + u32(24) + u32(0) +
          u32(0) + s(b"\x00"))
    x.req(0, "exec", 1, s("rm -rf /"))
    x.data(0, b"\x00\x00\x00\x05\x01\x00\x00\x00\x03")
    x.event(9, 0, bytes([0]))
    x.event(0)
    x.greq("tcpip-forward", 1, s("127.0.0.1") + u32(0))
    x.msg(OPEN, s("direct-tcpip") + u32(1) + u32(65536) + u32(16384) +
          s("127.0.0.1") + u32(7) + s("198.51.100.2") + u32(40000))
    x.save(d, "restrict-forced")

    x = Seed(P_PROVE | P_SLOW)
    x.greq("hostkeys-prove-00@openssh.com", 1, s(b"blob-1") + s(b"blob-2"))
    x.open_session(0)
    x.req(0, "exec", 1, s("yes"))
    for _ in range(8):
        x.event(2, 0, b"y\n" * 2000)
    x.msg(WINDOW_ADJUST, u32(0) + u32(1 << 20))
    x.event(0)
    x.save(d, "prove-slow")

    x = Seed(0)
    x.open_session(0)
    x.msg(OPEN_CONFIRMATION, u32(0) + u32(1) + u32(100) + u32(100))
    x.save(d, "bad-confirmation")

    # Floods: the window, the packet size, env requests (event 11).
    x = Seed(0)
    x.open_session(0)
    x.req(0, "exec", 1, s("cat"))
    x.req(0, "env", 0, s("FUZZ_A") + s("1"))
    x.rec(bytes([0, 11, 200, 0]))
    x.data(0, b"x" * 32768)
    x.rec(bytes([0, 11, 70, 0]))
    x.save(d, "flood-window")

    x = Seed(0)
    x.open_session(0)
    x.req(0, "shell", 1)
    x.data(0, b"y" * 32769)
    x.save(d, "flood-packet")

    # Connections to our listeners: we open channels, the client answers.
    x = Seed(P_AGENT)
    x.greq("tcpip-forward", 1, s("") + u32(0))
    x.open_session(0)
    x.req(0, "auth-agent-req@openssh.com", 1)
    x.event(10)
    x.event(0)
    x.msg(OPEN_CONFIRMATION, u32(1) + u32(11) + u32(65536) + u32(16384))
    x.msg(OPEN_FAILURE, u32(2) + u32(1) + s("administratively prohibited")
          + s(""))
    x.msg(OPEN_CONFIRMATION, u32(3) + u32(13) + u32(65536) + u32(16384))
    x.event(6, 0, b"from a local program")
    x.event(6, 2, b"agent request")
    x.data(1, "to the local program")
    x.data(3, "agent answer")
    x.event(0)
    x.event(7, 0)
    x.event(0)
    x.msg(CLOSE, u32(1))
    x.msg(EOF, u32(3))
    x.msg(CLOSE, u32(3))
    x.event(0)
    x.save(d, "forwarded")

    # tun@openssh.com: point-to-point (the peer plays the device) and
    # ethernet, a unit the stand-in refuses (13), data both ways.
    x = Seed(0)
    x.msg(OPEN, s("tun@openssh.com") + u32(0) + u32(65536) + u32(16384) +
          u32(1) + u32(0x7fffffff))
    x.msg(OPEN, s("tun@openssh.com") + u32(1) + u32(100) + u32(64) +
          u32(2) + u32(7))
    x.msg(OPEN, s("tun@openssh.com") + u32(2) + u32(65536) + u32(16384) +
          u32(1) + u32(13))
    x.event(0)
    x.event(6, 0, bytes([0x45]) + b"\0" * 27)
    x.event(6, 0, bytes([0x60]) + b"\0" * 47)
    x.event(6, 1, b"frame" * 40)
    x.data(0, b"\0\0\0\x02" + bytes([0x45]) + b"\0" * 19)
    x.data(0, b"\0\x02")
    x.data(1, b"ethernet frame")
    x.msg(WINDOW_ADJUST, u32(1) + u32(1000))
    x.event(0)
    x.event(7, 0)
    x.event(0)
    x.msg(EOF, u32(0))
    x.msg(CLOSE, u32(0))
    x.event(0)
    x.save(d, "tun")

    # A program writing more into its pty than the pty holds while the
    # client's window is shut: the harness's blocking write once hung
    # here (a libFuzzer timeout, depending on when the kernel moved the
    # data on).
    x = Seed(0)
    x.msg(OPEN, s("session") + u32(0) + u32(0) + u32(32768))
    x.req(0, "pty-req", 1, s("xterm") + u32(80) + u32(24) + u32(0) +
          u32(0) + s(PTY_MODES))
    x.req(0, "exec", 1, s("yes"))
    for _ in range(2):
        x.event(2, 0, b"y\n" * 16000)
    x.msg(WINDOW_ADJUST, u32(0) + u32(65536))
    x.event(0)
    x.save(d, "pty-output-fills")


if __name__ == "__main__":
    main(sys.argv[1])
