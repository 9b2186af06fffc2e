//! The 16 ANSI colours as a 16-colour terminal knows them. crossterm writes every colour,
//! the named ones too, as a 256-colour index (`ESC[38;5;9m` for ratatui's `Color::LightRed`),
//! which a terminal of 8 or 16 colours (the Linux console before 256 colours, `screen`,
//! serial terminals, `TERM=xterm` in some emulators' basic mode) ignores or misreads. The
//! theme only uses the 16 named colours, so every such index is written back as the SGR
//! code ECMA-48 and aixterm give it: 30-37 and 90-97 for text, 40-47 and 100-107 for the
//! background. Indexes 16-255 (from a user's `[colors]`) and RGB stay as they are.

use std::io::{self, Write};

/// A writer that holds what the terminal backend writes until it flushes (ratatui flushes
/// once per frame, crossterm after each command it executes), then rewrites the colours of
/// every complete SGR sequence and passes it all on. A sequence cut off by the flush goes
/// through unchanged.
pub struct Ansi16<W: Write> {
    inner: W,
    pending: Vec<u8>,
}

impl<W: Write> Ansi16<W> {
    pub fn new(inner: W) -> Ansi16<W> {
        Ansi16 {
            inner,
            pending: Vec::with_capacity(1 << 16),
        }
    }
}

impl<W: Write> Write for Ansi16<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        let out = rewrite(&self.pending);
        self.pending.clear();
        self.inner.write_all(&out)?;
        self.inner.flush()
    }
}

/// `bytes` with the 256-colour indexes 0-15 of every `ESC [ ... m` written as 16-colour
/// codes; everything else byte for byte.
pub fn rewrite(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    while let Some(at) = find(rest, b"\x1b[") {
        let (before, seq) = rest.split_at(at);
        out.extend_from_slice(before);
        let params_start = 2;
        // The parameters: digits and `;` up to the final byte.
        let len = seq
            .get(params_start..)
            .unwrap_or_default()
            .iter()
            .take_while(|b| b.is_ascii_digit() || **b == b';')
            .count();
        let end = params_start + len;
        match (seq.get(end), seq.get(params_start..end)) {
            (Some(b'm'), Some(params)) => {
                out.extend_from_slice(b"\x1b[");
                out.extend_from_slice(&sgr(params));
                out.push(b'm');
                rest = seq.get(end + 1..).unwrap_or_default();
            }
            _ => {
                out.extend_from_slice(b"\x1b[");
                rest = seq.get(params_start..).unwrap_or_default();
            }
        }
    }
    out.extend_from_slice(rest);
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The parameters of one SGR sequence with `38;5;N` and `48;5;N` (N < 16) as single codes.
fn sgr(params: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(params);
    let parts: Vec<&str> = text.split(';').collect();
    let mut out: Vec<String> = Vec::with_capacity(parts.len());
    let mut i = 0;
    while let Some(&p) = parts.get(i) {
        let index = parts
            .get(i + 2)
            .filter(|_| parts.get(i + 1) == Some(&"5"))
            .and_then(|n| n.parse::<u8>().ok())
            .filter(|n| *n < 16);
        let base = match p {
            "38" => Some(30u8),
            "48" => Some(40u8),
            _ => None,
        };
        match (base, index) {
            (Some(base), Some(n)) => {
                // 0-7 the normal colours, 8-15 their bright forms (aixterm's 90-97, 100-107).
                let code = if n < 8 { base + n } else { base + 60 + (n - 8) };
                out.push(code.to_string());
                i += 3;
            }
            _ => {
                out.push(p.to_string());
                i += 1;
            }
        }
    }
    out.join(";").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::crossterm::queue;
    use ratatui::crossterm::style::{
        Color, Colors, Print, SetBackgroundColor, SetColors, SetForegroundColor,
    };

    fn text(bytes: &[u8]) -> String {
        String::from_utf8_lossy(bytes).into_owned()
    }

    #[test]
    fn indexes_below_16_become_16_colour_codes() {
        for (input, want) in [
            ("\x1b[38;5;1m", "\x1b[31m"),
            ("\x1b[38;5;9m", "\x1b[91m"),
            ("\x1b[48;5;4m", "\x1b[44m"),
            ("\x1b[48;5;15m", "\x1b[107m"),
            ("\x1b[38;5;0;48;5;8m", "\x1b[30;100m"),
            ("a\x1b[1;38;5;14mb\x1b[0m", "a\x1b[1;96mb\x1b[0m"),
            // 256-colour indexes, RGB, the underline colour and other sequences stay.
            ("\x1b[38;5;208m", "\x1b[38;5;208m"),
            ("\x1b[38;2;1;2;3m", "\x1b[38;2;1;2;3m"),
            ("\x1b[58;5;1m", "\x1b[58;5;1m"),
            ("\x1b[2J\x1b[10;4H", "\x1b[2J\x1b[10;4H"),
            ("\x1b[38;5;", "\x1b[38;5;"),
            ("· é \x1b[", "· é \x1b["),
        ] {
            assert_eq!(text(&rewrite(input.as_bytes())), want, "{input:?}");
        }
    }

    /// What crossterm really writes for ratatui's named colours, through the writer as the
    /// dashboard uses it: no 256-colour index is left.
    #[test]
    fn crossterm_output_comes_out_in_16_colours() {
        let mut sink = Vec::new();
        {
            let mut w = Ansi16::new(&mut sink);
            queue!(
                w,
                SetForegroundColor(Color::Red),
                SetBackgroundColor(Color::DarkBlue),
                SetColors(Colors::new(Color::Cyan, Color::DarkGrey)),
                Print("x"),
                SetForegroundColor(Color::Reset)
            )
            .expect("queue");
            assert!(!w.pending.is_empty(), "held until the flush");
            w.flush().expect("flush");
        }
        let out = text(&sink);
        assert!(!out.contains("5;"), "{out:?}");
        assert_eq!(out, "\x1b[91m\x1b[44m\x1b[96;100mx\x1b[39m");
    }
}
