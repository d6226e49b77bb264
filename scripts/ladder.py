#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Draws ladder diagrams of cftcp connections between two VMs.

Inputs: the capture of the link (the global order of the frames, and what
each segment carried) and, from each VM's console, its trace (between
CFTCP-TRACE-BEGIN and CFTCP-TRACE-END): every frame the VM sent
(net:net_dev_start_xmit, before the driver has it) or took in
(net:napi_gro_receive_entry) on eth0 and
every cftcp_set_state event, in the VM's own order.  The k-th frame a VM
sent is the k-th frame from its address in the capture, the k-th it took
in the k-th frame to it; a state change is drawn on that VM's side after
the last frame it had sent or received before the change.  Nothing here
knows what should happen: the diagram is what the wire and the tracepoints
say.

usage: ladder.py --pcap FILE --trace-a CONSOLE --trace-b CONSOLE
                 --port PORT [--port PORT...] [--svg FILE] [--check]
A is 10.0.0.1, B 10.0.0.2.  --check verifies what make demo's test needs:
every frame matched, and per port the states each side went through.
"""
import argparse
import html
import re
import subprocess
import sys

ADDR = {"a": "10.0.0.1", "b": "10.0.0.2"}
NAME = {"a": "A 10.0.0.1", "b": "B 10.0.0.2"}

EVENT_RE = re.compile(r"\s(\d+\.\d+): (net_dev_start_xmit|"
                      r"napi_gro_receive_entry|cftcp_set_state): (.*)$")
STATE_RE = re.compile(r"saddr=([\d.]+) sport=(\d+) daddr=([\d.]+) dport=(\d+) "
                      r"oldstate=(\w+) newstate=(\w+)")
LEN_RE = re.compile(r"\blen=(\d+)")


def read_frames(pcap):
    """Every frame of the capture, in order, with its sender's address."""
    fields = ["frame.len", "eth.src", "ip.src", "arp.src.proto_ipv4",
              "arp.src.hw_mac", "ip.proto", "tcp.srcport", "tcp.dstport",
              "tcp.flags", "tcp.seq", "tcp.ack", "tcp.len",
              "tcp.window_size_value"]
    cmd = ["tshark", "-r", pcap, "-d", "ip.proto==253,tcp", "-T", "fields",
           "-E", "separator=\t", "-E", "occurrence=f"]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, check=True, capture_output=True,
                         text=True).stdout
    rows = [dict(zip(fields, line.split("\t")))
            for line in out.splitlines()]
    mac = {}
    for r in rows:
        if r["ip.src"]:
            mac[r["eth.src"]] = r["ip.src"]
        if r["arp.src.proto_ipv4"]:
            mac[r["arp.src.hw_mac"]] = r["arp.src.proto_ipv4"]
    frames = []
    for i, r in enumerate(rows):
        r["index"] = i
        r["sender"] = mac.get(r["eth.src"], "")
        frames.append(r)
    return frames


def read_trace(console):
    """The VM's events, in order: (kind, details)."""
    events = []
    inside = False
    with open(console, errors="replace") as f:
        for line in f:
            if "CFTCP-TRACE-BEGIN" in line:
                inside = True
                continue
            if "CFTCP-TRACE-END" in line:
                break
            if not inside:
                continue
            m = EVENT_RE.search(line)
            if not m:
                continue
            kind, rest = m.group(2), m.group(3)
            if kind == "cftcp_set_state":
                s = STATE_RE.search(rest)
                if s:
                    events.append(("state", s.groups()))
            else:
                ln = LEN_RE.search(rest)
                events.append(("xmit" if kind == "net_dev_start_xmit"
                               else "recv", int(ln.group(1)) if ln else -1))
    return events


def align(kind, lens, frames, problems, side):
    """Offset of the VM's traced frames in the capture's.

    A VM may start tracing after its first frames crossed the link (its
    boot, the peer's first pings): the traced lengths must then match a
    run of the captured ones further on.  The first offset where every
    length matches is taken.
    """
    extra = 0 if kind == "xmit" else 14
    want = [int(f["frame.len"]) - extra for f in frames]
    n = len(lens)
    for off in range(0, len(want) - n + 1):
        if all(ln < 0 or ln == w for ln, w in zip(lens, want[off:off + n])):
            return off
    problems.append(f"{side}: the {n} frames it traced as {kind} match no "
                    f"run of the {len(want)} in the capture")
    return 0


def side_items(side, events, frames, problems):
    """The VM's events as ('x'|'r', frame) and ('s', state) in its order."""
    me = ADDR[side]
    sent = [f for f in frames if f["sender"] == me]
    got = [f for f in frames if f["sender"] and f["sender"] != me]
    xlens = [d for k, d in events if k == "xmit"]
    rlens = [d for k, d in events if k == "recv"]
    ns = align("xmit", xlens, sent, problems, side)
    nr = align("recv", rlens, got, problems, side)
    items = []
    for kind, detail in events:
        if kind == "xmit":
            if ns < len(sent):
                items.append(("x", sent[ns]))
            ns += 1
        elif kind == "recv":
            if nr < len(got):
                items.append(("r", got[nr]))
            nr += 1
        else:
            items.append(("s", detail))
    return items


FLAG_BITS = [(0x02, "SYN"), (0x01, "FIN"), (0x04, "RST"), (0x08, "PSH"),
             (0x10, "ACK")]


def label(f):
    flags = int(f["tcp.flags"] or "0", 16)
    names = ",".join(n for bit, n in FLAG_BITS if flags & bit)
    text = f"{names} seq={f['tcp.seq']}"
    if flags & 0x10:
        text += f" ack={f['tcp.ack']}"
    if int(f["tcp.len"] or 0):
        text += f" len={f['tcp.len']}"
    return text


def timeline(port, items):
    """One connection's events of both sides in one order.

    Each side keeps its own order; a frame is received after it was sent.
    Between the two sides, the event whose frame came first on the wire
    (a state change: the frame before it on its side) goes first.
    Returns [(side, kind, frame or state)].
    """
    def mine(it):
        kind, d = it
        if kind == "s":
            return port in (d[1], d[3])
        return d["ip.proto"] == "253" and port in (d["tcp.srcport"],
                                                    d["tcp.dstport"])

    lists = {side: [it for it in items[side] if mine(it)] for side in items}
    keys = {}
    for side, lst in lists.items():
        last = -1.0
        ks = []
        for kind, d in lst:
            if kind == "s":
                last += 0.001
                ks.append(last)
            else:
                last = float(d["index"])
                ks.append(last)
        keys[side] = ks
    pos = {side: 0 for side in lists}
    sent = set()
    out = []
    while any(pos[s] < len(lists[s]) for s in lists):
        best = None
        for side in lists:
            i = pos[side]
            if i >= len(lists[side]):
                continue
            kind, d = lists[side][i]
            if kind == "r" and d["index"] not in sent:
                continue
            if best is None or keys[side][i] < keys[best][pos[best]]:
                best = side
        if best is None:	# a frame received and not traced as sent
            best = min((s for s in lists if pos[s] < len(lists[s])),
                       key=lambda s: keys[s][pos[s]])
        kind, d = lists[best][pos[best]]
        pos[best] += 1
        if kind == "x":
            sent.add(d["index"])
        out.append((best, kind, d))
    return out


def draw_text(port, rows):
    colw = 38
    out = [f"== port {port}",
           f"{NAME['b'] + ' (client)':<{colw}}|  {NAME['a']} (server)",
           f"{'':<{colw}}|"]
    for side, kind, d in rows:
        if kind == "s":
            text = f"[{d[4]} -> {d[5]}]"
        elif kind == "x":
            text = (f"{label(d)} -->" if side == "b" else
                    f"<-- {label(d)}")
        else:
            text = (f"<-- {label(d)}" if side == "b" else
                    f"--> {label(d)}")
        if side == "b":
            out.append(f"{text:>{colw - 1}} |")
        else:
            out.append(f"{'':<{colw}}| {text}")
    return "\n".join(out)


def draw_svg(ports_rows):
    xb, xa, step = 300, 720, 26
    parts = []
    y = 50
    for port, rows in ports_rows:
        parts.append(f'<text x="510" y="{y}" class="title">port {port}</text>')
        y += 28
        parts.append(f'<text x="{xb}" y="{y}" class="host">'
                     f'{NAME["b"]} (client)</text>')
        parts.append(f'<text x="{xa}" y="{y}" class="host">'
                     f'{NAME["a"]} (server)</text>')
        y += 18
        ystart = y
        sent_at = {}
        arrows = []
        for side, kind, d in rows:
            y += step
            x = xb if side == "b" else xa
            if kind == "s":
                anchor, dx = ("end", -10) if side == "b" else ("start", 10)
                parts.append(f'<text x="{x + dx}" y="{y + 4}" class="state" '
                             f'text-anchor="{anchor}">{html.escape(d[5])}'
                             f'</text>')
            elif kind == "x":
                sent_at[d["index"]] = (x, y)
            else:
                if d["index"] in sent_at:
                    x1, y1 = sent_at.pop(d["index"])
                    arrows.append((x1, y1, x, y, label(d)))
        for x1, y1, x2, y2, text in arrows:
            parts.append(f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" '
                         f'class="seg" marker-end="url(#arrow)"/>')
            tx, ty = (x1 + x2) / 2, (y1 + y2) / 2 - 4
            parts.append(f'<text x="{tx}" y="{ty}" class="label">'
                         f'{html.escape(text)}</text>')
        # frames sent and never seen arriving
        for x1, y1 in sent_at.values():
            parts.append(f'<line x1="{x1}" y1="{y1}" x2="{(xa + xb) / 2}" '
                         f'y2="{y1 + step}" class="lost"/>')
        y += step
        for x in (xb, xa):
            parts.append(f'<line x1="{x}" y1="{ystart}" x2="{x}" '
                         f'y2="{y}" class="life"/>')
        y += 60
    height = y
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="1020" height="{height}" viewBox="0 0 1020 {height}">
<style>
.title {{ font: bold 18px sans-serif; text-anchor: middle; }}
.host {{ font: bold 14px sans-serif; text-anchor: middle; }}
.label {{ font: 11px monospace; text-anchor: middle; }}
.state {{ font: bold 12px sans-serif; fill: #1a5fb4; }}
.seg {{ stroke: #333; stroke-width: 1.3; }}
.lost {{ stroke: #c01c28; stroke-width: 1.3; stroke-dasharray: 4 3; }}
.life {{ stroke: #999; stroke-width: 2; }}
</style>
<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#333"/></marker></defs>
<rect width="100%" height="100%" fill="white"/>
{chr(10).join(parts)}
</svg>
"""


def states_of(rows, side):
    return [d[5] for sd, kind, d in rows if kind == "s" and sd == side]


def check(ports_rows, problems):
    """What the diagram must show, from what the wire and traces said."""
    want = {
        # open, data, B closes first
        "5000": {"b": ["SYN_SENT", "ESTABLISHED", "FIN_WAIT1", "FIN_WAIT2",
                       "TIME_WAIT", "CLOSE"],
                 "a": ["CLOSE_WAIT", "LAST_ACK", "CLOSE"]},
        # half-close: A sends after B's FIN
        "5001": {"b": ["FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT", "CLOSE"],
                 "a": ["CLOSE_WAIT", "LAST_ACK", "CLOSE"]},
        # simultaneous close: both through CLOSING
        "5002": {"b": ["FIN_WAIT1", "CLOSING", "TIME_WAIT", "CLOSE"],
                 "a": ["FIN_WAIT1", "CLOSING", "TIME_WAIT", "CLOSE"]},
    }
    for port, rows in ports_rows:
        for side, seq in want.get(port, {}).items():
            got = states_of(rows, side)
            it = iter(got)
            if not all(s in it for s in seq):
                problems.append(f"port {port}: {side} went {got}, expected "
                                f"{seq} in that order")
        if port == "5001":
            # A's data after B's FIN, while A is in CLOSE_WAIT
            seen_fin = False
            ok = False
            for side, kind, f in rows:
                if kind != "x":
                    continue
                flags = int(f["tcp.flags"] or "0", 16)
                if f["sender"] == ADDR["b"] and flags & 0x01:
                    seen_fin = True
                if (seen_fin and f["sender"] == ADDR["a"] and
                        int(f["tcp.len"] or 0) > 0):
                    ok = True
            if not ok:
                problems.append("port 5001: no data from A after B's FIN")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pcap", required=True)
    ap.add_argument("--trace-a", required=True)
    ap.add_argument("--trace-b", required=True)
    ap.add_argument("--port", action="append", required=True)
    ap.add_argument("--svg")
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()

    frames = read_frames(args.pcap)
    problems = []
    items = {}
    for side, console in (("b", args.trace_b), ("a", args.trace_a)):
        events = read_trace(console)
        if not events:
            problems.append(f"{side}: no trace in {console}")
        items[side] = side_items(side, events, frames, problems)
    ports_rows = [(p, timeline(p, items)) for p in args.port]
    for port, rows in ports_rows:
        print(draw_text(port, rows))
        print()
    if args.svg:
        with open(args.svg, "w") as f:
            f.write(draw_svg(ports_rows))
    if args.check:
        check(ports_rows, problems)
    for p in problems:
        print(f"ladder: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
