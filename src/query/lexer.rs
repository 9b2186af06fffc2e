//! The words of a filter: where a key starts, and a word read across quotes and escapes
//! with the input position of each of its characters (so that an error points at the
//! source, not at the unquoted text).

use super::error::{FilterError, FilterErrorKind, err};

/// If a key (`[A-Za-z_]+:`) starts at `i`, its length (without the colon).
pub(super) fn key_prefix_len(chars: &[char], i: usize) -> Option<usize> {
    let rest = chars.get(i..)?;
    let n = rest
        .iter()
        .take_while(|c| c.is_ascii_alphabetic() || **c == '_')
        .count();
    (n > 0 && rest.get(n) == Some(&':')).then_some(n)
}

/// Read a word from `*i`: bare characters and quoted parts, up to unquoted whitespace (or
/// an unquoted comma when `commas`). With it, where each of its characters is in `chars`:
/// quotes and escapes make the word shorter than its source, and an error inside it must
/// point at the source.
pub(super) fn read_word(
    chars: &[char],
    i: &mut usize,
    commas: bool,
) -> Result<(String, Vec<usize>), FilterError> {
    let mut out = String::new();
    let mut at = Vec::new();
    while let Some(&c) = chars.get(*i) {
        if c.is_whitespace() || (commas && c == ',') {
            break;
        }
        if c != '"' {
            out.push(c);
            at.push(*i);
            *i += 1;
            continue;
        }
        let open = *i;
        *i += 1;
        loop {
            match chars.get(*i) {
                None => return Err(err(open + 1, FilterErrorKind::UnclosedQuote)),
                Some('"') => {
                    *i += 1;
                    break;
                }
                Some('\\') if matches!(chars.get(*i + 1), Some('"' | '\\')) => {
                    if let Some(&e) = chars.get(*i + 1) {
                        out.push(e);
                        at.push(*i + 1);
                    }
                    *i += 2;
                }
                Some(&c) => {
                    out.push(c);
                    at.push(*i);
                    *i += 1;
                }
            }
        }
    }
    Ok((out, at))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chars(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    #[test]
    fn a_key_is_letters_and_underscores_before_a_colon() {
        assert_eq!(key_prefix_len(&chars("port:80"), 0), Some(4));
        assert_eq!(key_prefix_len(&chars("x link_local:1"), 2), Some(10));
        assert_eq!(key_prefix_len(&chars(":80"), 0), None);
        assert_eq!(key_prefix_len(&chars("p0rt:80"), 0), None);
        assert_eq!(key_prefix_len(&chars("port"), 0), None);
        assert_eq!(key_prefix_len(&chars("port"), 9), None, "past the end");
    }

    #[test]
    fn a_word_keeps_where_each_character_came_from() {
        let input = chars(r#"a"b \"c"d,e f"#);
        let mut i = 0;
        let (word, at) = read_word(&input, &mut i, true).unwrap();
        assert_eq!(word, "ab \"cd");
        assert_eq!(at, vec![0, 2, 3, 5, 6, 8]);
        assert_eq!(input.get(i), Some(&','), "stops at the comma");
        let mut j = 0;
        let (word, _) = read_word(&input, &mut j, false).unwrap();
        assert_eq!(word, "ab \"cd,e");
        assert_eq!(input.get(j), Some(&' '));
    }

    #[test]
    fn an_open_quote_is_an_error_at_the_quote() {
        let mut i = 0;
        let e = read_word(&chars("ab\"cd"), &mut i, false).unwrap_err();
        assert_eq!((e.column, e.kind), (3, FilterErrorKind::UnclosedQuote));
        let mut i = 0;
        let e = read_word(&chars("\"a\\\""), &mut i, false).unwrap_err();
        assert_eq!(e.column, 1, "an escaped quote does not close it");
    }
}
