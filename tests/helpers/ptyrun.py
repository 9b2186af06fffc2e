#!/usr/bin/env python3
"""Runs a program in a pseudo-terminal that never answers queries, and reports on it.

Unlike tmux or a terminal emulator, this terminal answers nothing: a cursor-position query
(ESC [ 6 n) goes unanswered, as on a serial console or a dumb multiplexer. The program must
draw without it.

usage: ptyrun.py --wait-for TEXT [--hold SECONDS] [--then key:q|signal:TERM] -- COMMAND...

Prints one JSON line: {"saw_text", "asked_cursor", "alive_after_hold", "exit_code",
"signal", "output_tail"}. The program is killed if it is still running at the end.
"""
import argparse
import fcntl
import json
import os
import pty
import select
import signal
import struct
import termios
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wait-for", required=True)
    ap.add_argument("--hold", type=float, default=3.0)
    ap.add_argument("--then", default="key:q")
    ap.add_argument("--timeout", type=float, default=20.0)
    ap.add_argument("command", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    cmd = args.command[1:] if args.command[:1] == ["--"] else args.command

    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    # 100x30, so the program has a size to lay out.
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    os.kill(pid, signal.SIGWINCH)

    out = bytearray()

    def pump(seconds):
        end = time.monotonic() + seconds
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return
            r, _, _ = select.select([fd], [], [], min(left, 0.1))
            if r:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    return
                if not chunk:
                    return
                out.extend(chunk)

    def alive():
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0

    status = None
    start = time.monotonic()
    saw = False
    while time.monotonic() - start < args.timeout:
        pump(0.2)
        if args.wait_for.encode() in out:
            saw = True
            break
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = st
            break
    alive_after = False
    if status is None:
        # Longer than crossterm's 2 s wait for an answer that never comes.
        pump(args.hold)
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = st
        else:
            alive_after = True
            kind, what = args.then.split(":", 1)
            if kind == "key":
                os.write(fd, what.encode())
            else:
                os.kill(pid, getattr(signal, "SIG" + what))
            end = time.monotonic() + 10
            while time.monotonic() < end:
                pump(0.1)
                done, st = os.waitpid(pid, os.WNOHANG)
                if done:
                    status = st
                    break
    if status is None:
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    print(json.dumps({
        "saw_text": saw,
        "asked_cursor": b"\x1b[6n" in out,
        "alive_after_hold": alive_after,
        "exit_code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        "output_tail": out[-300:].decode("utf-8", "replace"),
    }))


if __name__ == "__main__":
    main()
