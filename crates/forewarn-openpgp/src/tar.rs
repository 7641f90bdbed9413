//! A minimal POSIX ustar writer: regular files only, which is all a bundle holds.

/// Builds a tar archive of `(name, bytes)` files, each with mode 0644 and the given modification time (seconds).
/// Names must be at most 100 bytes of printable ASCII without `..` components; others are rejected.
pub fn tar(files: &[(String, Vec<u8>)], mtime: i64) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    for (name, data) in files {
        if name.is_empty()
            || name.len() > 100
            || !name.bytes().all(|b| (0x21..0x7f).contains(&b))
            || name.split('/').any(|c| c == "..")
        {
            return Err(format!("{name:?} cannot be stored in the bundle"));
        }
        let mut h = [0u8; 512];
        h[..name.len()].copy_from_slice(name.as_bytes());
        let octal = |field: &mut [u8], v: u64| {
            let s = format!("{v:0width$o}", width = field.len() - 1);
            field[..s.len()].copy_from_slice(s.as_bytes());
        };
        octal(&mut h[100..108], 0o644);
        octal(&mut h[108..116], 0);
        octal(&mut h[116..124], 0);
        octal(&mut h[124..136], data.len() as u64);
        octal(&mut h[136..148], u64::try_from(mtime).unwrap_or(0));
        h[148..156].copy_from_slice(b"        ");
        h[156] = b'0';
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        let sum: u32 = h.iter().map(|b| u32::from(*b)).sum();
        let s = format!("{sum:06o}\0 ");
        h[148..156].copy_from_slice(s.as_bytes());
        out.extend_from_slice(&h);
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archives_have_ustar_headers_and_padding() {
        let t = tar(&[("a.json".into(), b"{}".to_vec()), ("poc/x.py".into(), vec![b'x'; 600])], 0).unwrap();
        assert_eq!(t.len() % 512, 0);
        assert_eq!(&t[257..262], b"ustar");
        assert_eq!(&t[512..514], b"{}");
        assert_eq!(t.len(), 512 + 512 + 512 + 1024 + 1024);
        assert!(tar(&[("../etc/passwd".into(), vec![])], 0).is_err());
    }
}
