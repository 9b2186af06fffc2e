//! An unsigned integer's digits written into a byte buffer without `format!`: for text made
//! once per socket at 50,000 sockets (the socket id, the JSON's numbers).

/// Writes `n` in `base` (2 to 16, lowercase) at the end of `buf` and returns where it
/// starts. Right to left, the order in which the digits come; `buf` must have room (20
/// bytes hold any `u64` in decimal, 16 in hex).
#[inline]
pub fn at_end(buf: &mut [u8], mut n: u64, base: u64) -> usize {
    debug_assert!((2..=16).contains(&base));
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b"0123456789abcdef"[(n % base) as usize];
        n /= base;
        if n == 0 {
            return at;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_as_format_writes_them() {
        for n in [0, 1, 9, 10, 255, 4026531840, 1 << 60, u64::MAX] {
            let mut buf = [b'.'; 24];
            let at = at_end(&mut buf[..22], n, 10);
            assert_eq!(&buf[at..22], n.to_string().as_bytes());
            let at = at_end(&mut buf[..22], n, 16);
            assert_eq!(&buf[at..22], format!("{n:x}").as_bytes());
            assert_eq!(&buf[22..], b"..", "nothing written past the end");
        }
    }
}
