//! Randomness from the OS, in the few forms the product uses.

/// The OS gave no randomness: nothing that needs it can go on.
#[derive(Clone, Copy, Debug, thiserror::Error)]
#[error("the operating system gave no randomness")]
pub struct NoEntropy;

pub fn fill(buf: &mut [u8]) -> Result<(), NoEntropy> {
    getrandom::fill(buf).map_err(|_| NoEntropy)
}

/// `N` random bytes.
pub fn bytes<const N: usize>() -> Result<[u8; N], NoEntropy> {
    let mut b = [0u8; N];
    fill(&mut b)?;
    Ok(b)
}

/// `N` random bytes in base58: ids and keys.
pub fn base58<const N: usize>() -> Result<String, NoEntropy> {
    Ok(bs58::encode(bytes::<N>()?).into_string())
}

/// A random u16 for jitter and shard choice, where a fixed middle value is a safe fallback.
pub fn u16() -> u16 {
    bytes::<2>().map_or(u16::MAX / 2, u16::from_le_bytes)
}
