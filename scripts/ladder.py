#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Draws ladder diagrams of cftcp connections between two VMs.

Inputs: the capture of the link (the global order of the frames, and what
each segment carried) and, from each VM's console, its trace (between
CFTCP-TRACE-BEGIN and CFTCP-TRACE-END): every frame the VM sent
(net:net_dev_xmit) or took in (net:napi_gro_receive_entry) on eth0 and
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

EVENT_RE = re.compile(r"\s(\d+\.\d+): (net_dev_xmit|napi_gro_receive_entry|"
                      r"cftcp_set_state): (.*)$")
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
                events.append(("xmit" if kind == "net_dev_xmit" else "recv",
                               int(ln.group(1)) if ln else -1))
    return events


def place_states(side, events, frames, problems):
    """[(frame index after which the change shows, state tuple)]."""
    me = ADDR[side]
    sent = [f for f in frames if f["sender"] == me]
    got = [f for f in frames if f["sender"] and f["sender"] != me]
    ns = nr = 0
    pos = -1
    placed = []
    for kind, detail in events:
        if kind == "xmit":
            if ns < len(sent):
                f = sent[ns]
                if detail >= 0 and int(f["frame.len"]) != detail:
                    problems.append(f"{side}: frame {f['index'] + 1} is "
                                    f"{f['frame.len']} bytes, sent {detail}")
                pos = max(pos, f["index"])
            ns += 1
        elif kind == "recv":
            if nr < len(got):
                f = got[nr]
                if detail >= 0 and int(f["frame.len"]) - 14 != detail:
                    problems.append(f"{side}: frame {f['index'] + 1} is "
                                    f"{f['frame.len']} bytes, took in "
                                    f"{detail} + 14")
                pos = max(pos, f["index"])
            nr += 1
        else:
            placed.append((pos, detail))
    if ns != len(sent):
        problems.append(f"{side}: traced {ns} frames sent, the capture has "
                        f"{len(sent)}")
    if nr != len(got):
        problems.append(f"{side}: traced {nr} frames taken in, the capture "
                        f"has {len(got)}")
    return placed


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


def connection(port, frames, placed):
    """Rows of one connection: ('seg', frame) and ('state', side, text)."""
    segs = [f for f in frames if f["ip.proto"] == "253" and
            port in (f["tcp.srcport"], f["tcp.dstport"])]
    states = []
    for side, plist in placed.items():
        for pos, (sa, sp, da, dp, old, new) in plist:
            if port in (sp, dp):
                states.append((pos, side, f"{old} -> {new}", new))
    rows = []
    for pos, side, text, new in states:
        if pos < (segs[0]["index"] if segs else 0):
            rows.append(("state", side, text, new))
    for f in segs:
        rows.append(("seg", f))
        nxt = [g["index"] for g in segs if g["index"] > f["index"]]
        upto = nxt[0] if nxt else 1 << 30
        for pos, side, text, new in states:
            if f["index"] <= pos < upto:
                rows.append(("state", side, text, new))
    return rows


def draw_text(port, rows):
    width = 52
    out = [f"== port {port}",
           f"{NAME['b']:>24}{'':{width - 10}}{NAME['a']}"]
    for row in rows:
        if row[0] == "state":
            _, side, text, _ = row
            if side == "b":
                out.append(f"{text:>22} |{'':{width}}|")
            else:
                out.append(f"{'':>22} |{'':{width}}| {text}")
            continue
        f = row[1]
        text = f" {label(f)} "
        if f["sender"] == ADDR["b"]:
            line = "-" + text + "-" * (width - len(text) - 2) + ">"
        else:
            line = "<" + "-" * (width - len(text) - 2) + text + "-"
        out.append(f"{'':>22} |{line}|")
    return "\n".join(out)


def draw_svg(ports_rows):
    xb, xa, top, step = 260, 760, 70, 34
    parts = []
    y = top
    for port, rows in ports_rows:
        y0 = y
        parts.append(f'<text x="510" y="{y}" class="title">port {port}</text>')
        y += 30
        parts.append(f'<text x="{xb}" y="{y}" class="host">'
                     f'{NAME["b"]} (client)</text>')
        parts.append(f'<text x="{xa}" y="{y}" class="host">'
                     f'{NAME["a"]} (server)</text>')
        y += 20
        ystart = y
        for row in rows:
            if row[0] == "state":
                _, side, text, new = row
                x = xb - 12 if side == "b" else xa + 12
                anchor = "end" if side == "b" else "start"
                parts.append(f'<text x="{x}" y="{y + 14}" class="state" '
                             f'text-anchor="{anchor}">{html.escape(new)}'
                             f'</text>')
                y += step * 0.7
                continue
            f = row[1]
            x1, x2 = (xb, xa) if f["sender"] == ADDR["b"] else (xa, xb)
            parts.append(f'<line x1="{x1}" y1="{y}" x2="{x2}" y2="{y + 22}" '
                         f'class="seg" marker-end="url(#arrow)"/>')
            parts.append(f'<text x="{(xa + xb) / 2}" y="{y + 6}" '
                         f'class="label">{html.escape(label(f))}</text>')
            y += step
        y += 10
        for x in (xb, xa):
            parts.append(f'<line x1="{x}" y1="{ystart - 6}" x2="{x}" '
                         f'y2="{y}" class="life"/>')
        y += 50
        del y0
    height = y + 20
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="1020" height="{height}" viewBox="0 0 1020 {height}">
<style>
.title {{ font: bold 18px sans-serif; text-anchor: middle; }}
.host {{ font: bold 14px sans-serif; text-anchor: middle; }}
.label {{ font: 12px monospace; text-anchor: middle; }}
.state {{ font: bold 12px sans-serif; fill: #1a5fb4; }}
.seg {{ stroke: #333; stroke-width: 1.5; }}
.life {{ stroke: #999; stroke-width: 2; }}
</style>
<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#333"/></marker></defs>
<rect width="100%" height="100%" fill="white"/>
{chr(10).join(parts)}
</svg>
"""


def states_of(rows, side):
    return [r[3] for r in rows if r[0] == "state" and r[1] == side]


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
            for r in rows:
                if r[0] != "seg":
                    continue
                f = r[1]
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
    placed = {}
    for side, console in (("a", args.trace_a), ("b", args.trace_b)):
        events = read_trace(console)
        if not events:
            problems.append(f"{side}: no trace in {console}")
        placed[side] = place_states(side, events, frames, problems)
    ports_rows = [(p, connection(p, frames, placed)) for p in args.port]
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
