//! WBXML multi-byte unsigned integers (mb_u_int32): big-endian 7-bit groups, high bit set on
//! every byte but the last. Facts §12.1.

use super::WbxmlError;

/// Longest legal encoding: 5 bytes carry 35 bits, enough for 32.
const MAX_LEN: usize = 5;

/// Read an mb_u_int32 at `*pos`, advancing `*pos` past it.
pub(crate) fn read(bytes: &[u8], pos: &mut usize, what: &'static str) -> Result<u32, WbxmlError> {
    let start = *pos;
    let mut value: u64 = 0;
    for i in 0..MAX_LEN {
        let b = *bytes.get(start + i).ok_or(WbxmlError::UnexpectedEof {
            offset: start + i,
            what,
        })?;
        value = (value << 7) | u64::from(b & 0x7F);
        if b & 0x80 == 0 {
            *pos = start + i + 1;
            return u32::try_from(value).map_err(|_| WbxmlError::MbUintOverflow { offset: start });
        }
    }
    Err(WbxmlError::MbUintTooLong { offset: start })
}

/// Append `value` as an mb_u_int32 (shortest form).
pub(crate) fn write(out: &mut Vec<u8>, value: u32) {
    let mut groups = [0u8; MAX_LEN];
    let mut n = 0;
    let mut v = value;
    loop {
        // Truncation intended: keep the low 7 bits.
        groups[n] = (v & 0x7F) as u8;
        n += 1;
        v >>= 7;
        if v == 0 {
            break;
        }
    }
    for i in (0..n).rev() {
        let cont = if i == 0 { 0 } else { 0x80 };
        out.push(groups[i] | cont);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn enc(v: u32) -> Vec<u8> {
        let mut out = Vec::new();
        write(&mut out, v);
        out
    }

    #[test]
    fn known_encodings() {
        // facts §12.1: 0x1201 -> A4 01, 0x0FD3 -> 9F 53
        assert_eq!(enc(0x1201), [0xA4, 0x01]);
        assert_eq!(enc(0x0FD3), [0x9F, 0x53]);
        assert_eq!(enc(0), [0x00]);
        assert_eq!(enc(0x7F), [0x7F]);
        assert_eq!(enc(0x80), [0x81, 0x00]);
        assert_eq!(enc(u32::MAX), [0x8F, 0xFF, 0xFF, 0xFF, 0x7F]);
    }

    #[test]
    fn round_trip_edges() {
        for v in [
            0,
            1,
            0x7F,
            0x80,
            0x3FFF,
            0x4000,
            0x1F_FFFF,
            0x20_0000,
            u32::MAX - 1,
            u32::MAX,
        ] {
            let b = enc(v);
            let mut pos = 0;
            assert_eq!(read(&b, &mut pos, "t").unwrap(), v);
            assert_eq!(pos, b.len());
        }
    }

    #[test]
    fn non_minimal_leading_zero_groups_are_accepted() {
        let mut pos = 0;
        assert_eq!(read(&[0x80, 0x80, 0x01], &mut pos, "t").unwrap(), 1);
        assert_eq!(pos, 3);
    }

    #[test]
    fn rejects_six_bytes() {
        let mut pos = 2;
        let b = [9, 9, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01];
        assert_eq!(
            read(&b, &mut pos, "t"),
            Err(WbxmlError::MbUintTooLong { offset: 2 })
        );
    }

    #[test]
    fn rejects_overflow() {
        let mut pos = 0;
        assert_eq!(
            read(&[0x90, 0x80, 0x80, 0x80, 0x00], &mut pos, "t"),
            Err(WbxmlError::MbUintOverflow { offset: 0 })
        );
    }

    #[test]
    fn rejects_truncation() {
        let mut pos = 0;
        assert_eq!(
            read(&[0x81, 0x82], &mut pos, "length"),
            Err(WbxmlError::UnexpectedEof {
                offset: 2,
                what: "length"
            })
        );
        let mut pos = 0;
        assert!(matches!(
            read(&[], &mut pos, "x"),
            Err(WbxmlError::UnexpectedEof { offset: 0, .. })
        ));
    }
}
