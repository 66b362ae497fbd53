//! Small cryptographic helpers on aws-lc-rs (already linked for TLS): randomness, HMAC,
//! constant-time comparison, AES-256-GCM.

use aws_lc_rs::{aead, constant_time, hmac, rand};

pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    rand::fill(&mut b).expect("system randomness is available");
    b
}

/// A uniformly random decimal code of `digits` digits (rejection sampling, no modulo bias).
pub fn random_digits(digits: usize) -> String {
    let mut out = String::with_capacity(digits);
    while out.len() < digits {
        for b in random_bytes::<32>() {
            if b < 250 && out.len() < digits {
                out.push(char::from(b'0' + b % 10));
            }
        }
    }
    out
}

pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let k = hmac::Key::new(hmac::HMAC_SHA256, key);
    let tag = hmac::sign(&k, msg);
    let mut out = [0u8; 32];
    out.copy_from_slice(tag.as_ref());
    out
}

pub fn hex(bytes: &[u8]) -> String {
    const H: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(H[(b >> 4) as usize] as char);
        s.push(H[(b & 15) as usize] as char);
    }
    s
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    constant_time::verify_slices_are_equal(a, b).is_ok()
}

/// AES-256-GCM with a random 96-bit nonce; output is nonce || ciphertext || tag.
pub fn seal(key: &[u8; 32], aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let key = aead::LessSafeKey::new(aead::UnboundKey::new(&aead::AES_256_GCM, key).expect("32-byte key"));
    let nonce_bytes = random_bytes::<12>();
    let mut buf = plaintext.to_vec();
    key.seal_in_place_append_tag(aead::Nonce::assume_unique_for_key(nonce_bytes), aead::Aad::from(aad), &mut buf)
        .expect("sealing cannot fail for in-memory buffers");
    let mut out = Vec::with_capacity(12 + buf.len());
    out.extend_from_slice(&nonce_bytes);
    out.extend_from_slice(&buf);
    out
}

/// Inverse of [`seal`]; `None` if the data was altered or sealed under another key or aad.
pub fn open(key: &[u8; 32], aad: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
    if sealed.len() < 12 + 16 {
        return None;
    }
    let key = aead::LessSafeKey::new(aead::UnboundKey::new(&aead::AES_256_GCM, key).ok()?);
    let (nonce, ct) = sealed.split_at(12);
    let nonce = aead::Nonce::try_assume_unique_for_key(nonce).ok()?;
    let mut buf = ct.to_vec();
    let plain = key.open_in_place(nonce, aead::Aad::from(aad), &mut buf).ok()?;
    Some(plain.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_are_digits_and_vary() {
        let a = random_digits(8);
        assert_eq!(a.len(), 8);
        assert!(a.chars().all(|c| c.is_ascii_digit()));
        let distinct: std::collections::HashSet<_> = (0..50).map(|_| random_digits(8)).collect();
        assert!(distinct.len() > 45);
    }

    #[test]
    fn seal_open_round_trip_and_tamper() {
        let k = [7u8; 32];
        let s = seal(&k, b"ctx", b"hello");
        assert_eq!(open(&k, b"ctx", &s).unwrap(), b"hello");
        assert!(open(&k, b"other", &s).is_none());
        assert!(open(&[8u8; 32], b"ctx", &s).is_none());
        let mut t = s.clone();
        t[14] ^= 1;
        assert!(open(&k, b"ctx", &t).is_none());
        assert!(open(&k, b"ctx", &s[..10]).is_none());
    }

    #[test]
    fn hex_encodes() {
        assert_eq!(hex(&[0, 255, 16]), "00ff10");
    }
}
