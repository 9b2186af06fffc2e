#!/usr/bin/env python3
"""ansi2png: renders a terminal screen captured with `tmux capture-pane -e -p` to a PNG, cell
by cell, with the colours and bold/reverse attributes the program drew. Used by make.sh for
the README's screenshots of the real binary.

    python3 screenshots/ansi2png.py SCREEN.ansi OUT.png

Needs Pillow and the DejaVu Sans Mono fonts (Debian: fonts-dejavu-core).
"""
import re
import sys

from PIL import Image, ImageDraw, ImageFont

FONT_DIR = "/usr/share/fonts/truetype/dejavu/"
SIZE = 15
BG = (29, 31, 33)
FG = (216, 222, 233)
# The 16 ANSI colours (a dark theme close to common terminal defaults).
PALETTE = [
    (40, 42, 46), (204, 102, 102), (181, 189, 104), (240, 198, 116),
    (129, 162, 190), (178, 148, 187), (138, 190, 183), (197, 200, 198),
    (85, 87, 83), (239, 41, 41), (138, 226, 52), (252, 233, 79),
    (114, 159, 207), (173, 127, 168), (52, 226, 226), (238, 238, 236),
]
SGR = re.compile(r"\x1b\[([0-9;:]*)m")


def xterm256(n):
    if n < 16:
        return PALETTE[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return (steps[n // 36], steps[(n // 6) % 6], steps[n % 6])
    v = 8 + 10 * (n - 232)
    return (v, v, v)


def parse(text):
    """Lines of (char, fg, bg, bold) cells."""
    lines = []
    fg, bg, bold, reverse = None, None, False, False
    for raw in text.split("\n"):
        cells = []
        pos = 0
        for m in SGR.finditer(raw):
            for ch in raw[pos:m.start()]:
                cells.append((ch, fg, bg, bold, reverse))
            pos = m.end()
            codes = [int(c) if c.isdigit() else 0 for c in m.group(1).replace(":", ";").split(";")]
            i = 0
            while i < len(codes):
                c = codes[i]
                if c == 0:
                    fg, bg, bold, reverse = None, None, False, False
                elif c == 1:
                    bold = True
                elif c == 22:
                    bold = False
                elif c == 7:
                    reverse = True
                elif c == 27:
                    reverse = False
                elif 30 <= c <= 37:
                    fg = PALETTE[c - 30]
                elif 90 <= c <= 97:
                    fg = PALETTE[c - 90 + 8]
                elif 40 <= c <= 47:
                    bg = PALETTE[c - 40]
                elif 100 <= c <= 107:
                    bg = PALETTE[c - 100 + 8]
                elif c == 39:
                    fg = None
                elif c == 49:
                    bg = None
                elif c in (38, 48) and i + 1 < len(codes):
                    if codes[i + 1] == 5 and i + 2 < len(codes):
                        col = xterm256(codes[i + 2])
                        i += 2
                    elif codes[i + 1] == 2 and i + 4 < len(codes):
                        col = tuple(codes[i + 2:i + 5])
                        i += 4
                    else:
                        col = None
                    if c == 38:
                        fg = col
                    else:
                        bg = col
                i += 1
        for ch in raw[pos:]:
            cells.append((ch, fg, bg, bold, reverse))
        lines.append(cells)
    while lines and not lines[-1]:
        lines.pop()
    return lines


def main():
    src, out = sys.argv[1], sys.argv[2]
    lines = parse(open(src, encoding="utf-8", errors="replace").read())
    regular = ImageFont.truetype(FONT_DIR + "DejaVuSansMono.ttf", SIZE)
    boldf = ImageFont.truetype(FONT_DIR + "DejaVuSansMono-Bold.ttf", SIZE)
    cw = round(regular.getlength("M"))
    ch = SIZE + 4
    cols = max((len(l) for l in lines), default=1)
    pad = 10
    img = Image.new("RGB", (cols * cw + 2 * pad, len(lines) * ch + 2 * pad), BG)
    draw = ImageDraw.Draw(img)
    for y, cells in enumerate(lines):
        for x, (c, fg, bg, bold, reverse) in enumerate(cells):
            f, b = fg or FG, bg or BG
            if reverse:
                f, b = b, f
            x0, y0 = pad + x * cw, pad + y * ch
            if b != BG:
                draw.rectangle([x0, y0, x0 + cw - 1, y0 + ch - 1], fill=b)
            if c != " ":
                draw.text((x0, y0 + 1), c, font=boldf if bold else regular, fill=f)
    img.save(out)


if __name__ == "__main__":
    main()
