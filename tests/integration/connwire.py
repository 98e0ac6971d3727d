"""
connwire.py: connection-protocol (RFC 4254) cells on top of protowire.py.
Run with /usr/bin/python3:

    connwire.py PORT USER KEYFILE < cells.json

Each cell runs on a fresh connection, after a publickey login, and is a
list of steps; after each step the client sends a GLOBAL_REQUEST of its
own (probe@postern.test, want-reply) and records what the server sent
before that request's answer (and, for a CHANNEL_OPEN, until the open's
answer, which may come later). A step is a JSON object:

    {"open": TYPE, "ch": N, "win": W, "max": M, "args": ARGS}
        CHANNEL_OPEN with sender channel N (default 0, window 65536,
        max packet 32768); ARGS a list of ["s", str] / ["u", int] /
        ["b", bool] fields after the fixed ones
    {"greq": NAME, "reply": BOOL, "args": ARGS}
    {"creq": NAME, "ch": N, "reply": BOOL, "args": ARGS}
        CHANNEL_REQUEST on the server's channel for our channel N (or
        {"raw": ID} as "ch" for a server id as given)
    {"data": N, "len": L, "n": COUNT}, {"ext": N, "len": L}, {"eof": N},
    {"close": N}, {"adjust": N, "add": A}

A step's words: "open_confirmation", "open_failure-R:DESC",
"request_success[:PORT]", "request_failure", "channel_success",
"channel_failure", "unimplemented", "disconnect-R:DESC", "debug:TEXT"
(SSH_MSG_DEBUG, which ssh -v prints), "closed",
"timeout" (other channel traffic - data, EOF, CLOSE, exit-status - is
not recorded: its timing is the child's). Output: one JSON list per
cell, {"steps": [words per step], "lport": client port}.
"""

import struct
import time

import protowire as pw
from protowire import s, u32


def fields(args):
    out = b""
    for kind, v in args or []:
        if kind == "s":
            out += s(v)
        elif kind == "u":
            out += u32(v)
        elif kind == "b":
            out += b"\x01" if v else b"\x00"
        elif kind == "x":
            out += bytes.fromhex(v)
    return out


def word(t, p):
    if t == 92:
        reason = struct.unpack(">I", p[4:8])[0]
        n = struct.unpack(">I", p[8:12])[0]
        return "open_failure-%d:%s" % (reason, p[12:12 + n].decode(
            "utf-8", "replace"))
    if t == 1:
        reason = struct.unpack(">I", p[:4])[0]
        n = struct.unpack(">I", p[4:8])[0]
        return "disconnect-%d:%s" % (reason, p[8:8 + n].decode(
            "utf-8", "replace"))
    if t == 4:
        n = struct.unpack(">I", p[1:5])[0]
        return "debug:%s" % p[5:5 + n].decode("utf-8", "replace")
    if t == 81 and len(p) >= 4:
        return "request_success:%d" % struct.unpack(">I", p[:4])[0]
    if t in (81, 82, 91, 99, 100, 3):
        return pw.NAMES[t]
    return None


class Cell:
    def __init__(self, port, user, keyfile):
        self.conn = pw.Conn(port, False)
        self.peer = {}  # our channel number -> server's
        pre = []
        pw.full_kex(self.conn, pre)
        pw.service(self.conn, pre)
        self.conn.auth(user, keyfile, pre)
        # What the login itself sends (sshd's "key options" DEBUG lines)
        # is not a cell's.
        self.conn.send(bytes([80]) + s("probe@postern.test") + b"\x01")
        pw.expect(self.conn, (81, 82), pre)

    def chan(self, ch):
        if isinstance(ch, dict):
            return ch["raw"]
        return self.peer.get(ch, 1000 + ch)

    def step(self, st):
        c = self.conn
        open_wait = False
        skip = 0
        if "open" in st:
            c.send(bytes([90]) + s(st["open"]) + u32(st.get("ch", 0)) +
                   u32(st.get("win", 65536)) + u32(st.get("max", 32768)) +
                   fields(st.get("args")))
            open_wait = True
        elif "greq" in st:
            c.send(bytes([80]) + s(st["greq"]) +
                   (b"\x01" if st.get("reply", True) else b"\x00") +
                   fields(st.get("args")))
            skip = 1 if st.get("reply", True) else 0
        elif "creq" in st:
            c.send(bytes([98]) + u32(self.chan(st.get("ch", 0))) +
                   s(st["creq"]) +
                   (b"\x01" if st.get("reply", True) else b"\x00") +
                   fields(st.get("args")))
        elif "data" in st:
            for _ in range(st.get("n", 1)):
                c.send(bytes([94]) + u32(self.chan(st["data"])) +
                       s(b"x" * st.get("len", 4)))
        elif "ext" in st:
            c.send(bytes([95]) + u32(self.chan(st["ext"])) + u32(1) +
                   s(b"x" * st.get("len", 4)))
        elif "eof" in st:
            c.send(bytes([96]) + u32(self.chan(st["eof"])))
        elif "close" in st:
            c.send(bytes([97]) + u32(self.chan(st["close"])))
        elif "adjust" in st:
            c.send(bytes([93]) + u32(self.chan(st["adjust"])) +
                   u32(st.get("add", 0)))
        c.send(bytes([80]) + s("probe@postern.test") + b"\x01")
        words = []
        probe_done = False
        deadline = time.monotonic() + 10
        while not probe_done or open_wait:
            t, p, _ = c._read_packet(deadline)
            if t == 91 and open_wait:
                self.peer[st.get("ch", 0)] = struct.unpack(">I", p[4:8])[0]
            if t in (91, 92):
                open_wait = False
            if t in (81, 82):
                if skip:
                    skip -= 1
                else:
                    probe_done = True
                    continue
            w = word(t, p)
            if w is not None:
                words.append(w)
            if t == 1:
                raise pw.Closed(words)
        return words


def run_cell(port, user, keyfile, steps):
    out = []
    try:
        cell = Cell(port, user, keyfile)
    except (pw.Closed, TimeoutError, OSError) as e:
        return {"steps": ["setup-failed:%r" % e], "lport": 0}
    for st in steps:
        try:
            out.append("+".join(cell.step(st)) or "ignored")
        except pw.Closed as e:
            words = list(e.args[0]) if e.args else []
            if not any(w.startswith("disconnect") for w in words):
                log = []
                pw.drain(cell.conn, log)
                words += [word(t, p) for t, p, _ in log
                          if word(t, p) is not None]
                if not any(w.startswith("disconnect") for w in words):
                    words.append("closed")
            out.append("+".join(words))
            break
        except TimeoutError:
            out.append("timeout")
            break
    pw.bye(cell.conn)
    return {"steps": out, "lport": cell.conn.lport}


if __name__ == "__main__":
    pw.main(run_cell)
