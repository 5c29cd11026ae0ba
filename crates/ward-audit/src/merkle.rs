//! Merkle hash trees, RFC 6962 §2.1 and RFC 9162 §2.1, line by line.
//!
//! Variable names follow the RFCs: `D[n]` is the list of `n` entries (here given by their
//! leaf hashes), `MTH` the Merkle Tree Hash, `k` the largest power of two smaller than `n`,
//! `PATH(m, D[n])` the audit path of leaf `m`, `PROOF(m, D[n])` the consistency proof from
//! the tree of the first `m` leaves, and in the verifiers `fn`/`sn`/`r`/`fr`/`sr` as in
//! RFC 9162 §2.1.3.2 and §2.1.4.2 (`fn` is a Rust keyword, so it is spelled `fn_`).
//!
//! Functions that take `leaves: &[Hash]` take *leaf hashes*, `leaf_hash(d(i))`, not raw
//! entries: `MTH({d(0)}) = SHA-256(0x00 || d(0))` is then `leaves[0]` itself.

use sha2::{Digest, Sha256};

use crate::AuditError;

/// A SHA-256 output: a leaf hash, an interior node hash or a tree root.
pub type Hash = [u8; 32];

/// RFC 6962 §2.1: the leaf hash `SHA-256(0x00 || d)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(data);
    h.finalize().into()
}

/// RFC 6962 §2.1: the interior node hash `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// RFC 6962 §2.1: the hash of an empty list, `MTH({}) = SHA-256()`.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// `k`, "the largest power of two smaller than n" (RFC 6962 §2.1), for `n > 1`.
///
/// Returns 0 for `n <= 1`, where the RFC never asks for `k`.
fn largest_power_of_two_smaller_than(n: usize) -> usize {
    (n.saturating_sub(1)).checked_ilog2().map_or(0, |e| 1 << e)
}

/// Splits `D[n]` into `D[0:k]` and `D[k:n]`.
///
/// Only called with `n > 1`, where `0 < k < n`.
fn split(d: &[Hash]) -> (&[Hash], &[Hash]) {
    let k = largest_power_of_two_smaller_than(d.len());
    d.split_at(k.min(d.len()))
}

/// Root of the tree over these leaf hashes (MTH of RFC 6962 §2.1).
pub fn root_from_leaf_hashes(leaves: &[Hash]) -> Hash {
    mth(leaves)
}

/// `MTH(D[n])`, RFC 6962 §2.1.
fn mth(d: &[Hash]) -> Hash {
    match d {
        // The hash of an empty list is the hash of an empty string: MTH({}) = SHA-256().
        [] => empty_root(),
        // The hash of a list with one entry: MTH({d(0)}) = SHA-256(0x00 || d(0)).
        [d0] => *d0,
        // For n > 1, let k be the largest power of two smaller than n (i.e., k < n <= 2k).
        // MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])).
        _ => {
            let (d_0_k, d_k_n) = split(d);
            node_hash(&mth(d_0_k), &mth(d_k_n))
        }
    }
}

/// The inclusion proof (audit path) for leaf `index` in the tree over `leaves`:
/// `PATH(m, D[n])` of RFC 6962 §2.1.1 with `m = index`, `n = leaves.len()`.
///
/// Hashes are ordered from the leaf up to the root, as RFC 9162 §2.1.3.2 consumes them.
pub fn inclusion_proof(leaves: &[Hash], index: u64) -> Result<Vec<Hash>, AuditError> {
    let n = leaves.len();
    let out_of_range = AuditError::IndexOutOfRange {
        index,
        size: n as u64,
    };
    let m = usize::try_from(index).map_err(|_| out_of_range.clone())?;
    if m >= n {
        return Err(out_of_range);
    }
    let mut proof = Vec::with_capacity(64);
    path(m, leaves, &mut proof);
    Ok(proof)
}

/// `PATH(m, D[n])`, RFC 6962 §2.1.1, appending to `out` (the ':' of the RFC).
fn path(m: usize, d: &[Hash], out: &mut Vec<Hash>) {
    // The path for the single leaf in a tree with a one-element input list D[1] = {d(0)}
    // is empty: PATH(0, {d(0)}) = {}.
    if d.len() <= 1 {
        return;
    }
    // For n > 1, let k be the largest power of two smaller than n.
    let k = largest_power_of_two_smaller_than(d.len());
    let (d_0_k, d_k_n) = split(d);
    if m < k {
        // For m < k: PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n])
        path(m, d_0_k, out);
        out.push(mth(d_k_n));
    } else {
        // For m >= k: PATH(m, D[n]) = PATH(m - k, D[k:n]) : MTH(D[0:k])
        path(m - k, d_k_n, out);
        out.push(mth(d_0_k));
    }
}

/// The consistency proof from the tree of the first `old_size` leaves to the tree over all
/// `leaves`: `PROOF(m, D[n])` of RFC 6962 §2.1.2 with `m = old_size`, `n = leaves.len()`.
///
/// The RFC defines the proof for `0 < m < n`; for `m = 0` and `m = n` the proof is empty
/// (every tree extends the empty tree, and a tree extends itself).
pub fn consistency_proof(leaves: &[Hash], old_size: u64) -> Result<Vec<Hash>, AuditError> {
    let n = leaves.len();
    let order = AuditError::SizeOrder {
        old_size,
        new_size: n as u64,
    };
    let m = usize::try_from(old_size).map_err(|_| order.clone())?;
    if m > n {
        return Err(order);
    }
    let mut proof = Vec::with_capacity(64);
    if m == 0 || m == n {
        return Ok(proof);
    }
    // PROOF(m, D[n]) = SUBPROOF(m, D[n], true)
    subproof(m, leaves, true, &mut proof);
    Ok(proof)
}

/// `SUBPROOF(m, D[n], b)`, RFC 6962 §2.1.2, for `0 < m <= n`, appending to `out`.
fn subproof(m: usize, d: &[Hash], b: bool, out: &mut Vec<Hash>) {
    let n = d.len();
    if m == n {
        // The subproof for m = n is empty if m is the value for which PROOF was originally
        // requested (meaning that the subtree Merkle Tree Hash MTH(D[0:m]) is known):
        // SUBPROOF(m, D[m], true) = {}
        // Otherwise, the subproof for m = n is the Merkle Tree Hash committing inputs
        // D[0:m]: SUBPROOF(m, D[m], false) = {MTH(D[m])}
        if !b {
            out.push(mth(d));
        }
        return;
    }
    // For m < n, let k be the largest power of two smaller than n.
    let k = largest_power_of_two_smaller_than(n);
    let (d_0_k, d_k_n) = split(d);
    if m <= k {
        // If m <= k, the right subtree entries D[k:n] only exist in the current tree. We
        // prove that the left subtree entries D[0:k] are consistent and add a commitment to
        // D[k:n]: SUBPROOF(m, D[n], b) = SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
        subproof(m, d_0_k, b, out);
        out.push(mth(d_k_n));
    } else {
        // If m > k, the left subtree entries D[0:k] are identical in both trees. We prove
        // that the right subtree entries D[k:n] are consistent and add a commitment to
        // D[0:k]: SUBPROOF(m, D[n], b) = SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])
        subproof(m - k, d_k_n, false, out);
        out.push(mth(d_0_k));
    }
}

/// `LSB(x)`: whether the least significant bit of `x` is set (RFC 9162 §2.1.3.2).
fn lsb(x: u64) -> bool {
    x & 1 == 1
}

/// Verifies an inclusion proof, RFC 9162 §2.1.3.2.
///
/// `leaf` is the leaf hash (`hash` in the RFC), `index` is `leaf_index`, `proof` is
/// `inclusion_path` and `root` is `root_hash` of the tree of `tree_size` leaves.
///
/// The tree size is not committed to by the root: the same proof and root can verify for
/// another size whose path has the same shape. Bind the size by taking it, with the root,
/// from a signed [`crate::Checkpoint`].
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    tree_size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), AuditError> {
    let (leaf_index, hash, inclusion_path, root_hash) = (index, leaf, proof, root);
    // 1. Compare leaf_index from the inclusion_proof with tree_size from the STH. If
    //    leaf_index is greater than or equal to tree_size, then fail the proof verification.
    if leaf_index >= tree_size {
        return Err(AuditError::IndexOutOfRange {
            index: leaf_index,
            size: tree_size,
        });
    }
    // 2. Set fn to leaf_index and sn to tree_size - 1.
    let mut fn_ = leaf_index;
    let mut sn = tree_size - 1;
    // 3. Set r to hash.
    let mut r = *hash;
    // 4. For each value p in the inclusion_path array:
    for p in inclusion_path {
        // a. If sn is 0, then stop the iteration and fail the proof verification.
        if sn == 0 {
            return Err(AuditError::ProofTooLong);
        }
        // b. If LSB(fn) is set, or if fn is equal to sn, then:
        if lsb(fn_) || fn_ == sn {
            // i. Set r to HASH(0x01 || p || r).
            r = node_hash(p, &r);
            // ii. If LSB(fn) is not set, then right-shift both fn and sn equally until
            //     either LSB(fn) is set or fn is 0.
            if !lsb(fn_) {
                while !(lsb(fn_) || fn_ == 0) {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            // Otherwise: i. Set r to HASH(0x01 || r || p).
            r = node_hash(&r, p);
        }
        // c. Finally, right-shift both fn and sn one time.
        fn_ >>= 1;
        sn >>= 1;
    }
    // 5. Compare sn to 0. Compare r against the root_hash. If sn is equal to 0 and r and
    //    the root_hash are equal, then the log has proven the inclusion of hash.
    //    Otherwise, fail the proof verification.
    if sn != 0 {
        return Err(AuditError::ProofTooShort);
    }
    if r != *root_hash {
        return Err(AuditError::RootMismatch);
    }
    Ok(())
}

/// Verifies a consistency proof, RFC 9162 §2.1.4.2.
///
/// `old_size`/`old_root` are `first`/`first_hash`, `new_size`/`new_root` are
/// `second`/`second_hash`, and `proof` is `consistency_path`. The RFC's algorithm covers
/// `0 < first < second`; around it:
///
/// - `first == second`: the proof must be empty and the roots equal;
/// - `first == 0`: the proof must be empty and `first_hash` must be the empty root
///   (stricter than accepting any hash for an empty tree).
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), AuditError> {
    let (first, second, first_hash, second_hash, consistency_path) =
        (old_size, new_size, old_root, new_root, proof);
    if first > second {
        return Err(AuditError::SizeOrder { old_size, new_size });
    }
    if first == second {
        if !consistency_path.is_empty() {
            return Err(AuditError::ProofTooLong);
        }
        if first_hash != second_hash {
            return Err(AuditError::RootMismatch);
        }
        return Ok(());
    }
    if first == 0 {
        if !consistency_path.is_empty() {
            return Err(AuditError::ProofTooLong);
        }
        if *first_hash != empty_root() {
            return Err(AuditError::OldRootMismatch);
        }
        return Ok(());
    }
    // Here 0 < first < second.
    // 1. If consistency_path is an empty array, stop and fail the proof verification.
    let Some((head, tail)) = consistency_path.split_first() else {
        return Err(AuditError::ProofTooShort);
    };
    // 2. If first is an exact power of 2, then prepend first_hash to the consistency_path
    //    array. (Kept as a separate first value instead of copying the array.)
    let (first_value, subsequent) = if first.is_power_of_two() {
        (first_hash, consistency_path)
    } else {
        (head, tail)
    };
    // 3. Set fn to first - 1 and sn to second - 1.
    let mut fn_ = first - 1;
    let mut sn = second - 1;
    // 4. If LSB(fn) is set, then right-shift both fn and sn equally until LSB(fn) is not
    //    set.
    while lsb(fn_) {
        fn_ >>= 1;
        sn >>= 1;
    }
    // 5. Set both fr and sr to the first value in the consistency_path array.
    let mut fr = *first_value;
    let mut sr = *first_value;
    // 6. For each subsequent value c in the consistency_path array:
    for c in subsequent {
        // a. If sn is 0, then stop the iteration and fail the proof verification.
        if sn == 0 {
            return Err(AuditError::ProofTooLong);
        }
        // b. If LSB(fn) is set, or if fn is equal to sn, then:
        if lsb(fn_) || fn_ == sn {
            // i. Set fr to HASH(0x01 || c || fr).
            fr = node_hash(c, &fr);
            // ii. Set sr to HASH(0x01 || c || sr).
            sr = node_hash(c, &sr);
            // iii. If LSB(fn) is not set, then right-shift both fn and sn equally until
            //      either LSB(fn) is set or fn is 0.
            if !lsb(fn_) {
                while !(lsb(fn_) || fn_ == 0) {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            // Otherwise: i. Set sr to HASH(0x01 || sr || c).
            sr = node_hash(&sr, c);
        }
        // c. Finally, right-shift both fn and sn one time.
        fn_ >>= 1;
        sn >>= 1;
    }
    // 7. After completing iterating through the consistency_path array as described above,
    //    verify that the fr calculated is equal to the first_hash supplied, that the sr
    //    calculated is equal to the second_hash supplied, and that sn is 0.
    if sn != 0 {
        return Err(AuditError::ProofTooShort);
    }
    if fr != *first_hash {
        return Err(AuditError::OldRootMismatch);
    }
    if sr != *second_hash {
        return Err(AuditError::NewRootMismatch);
    }
    Ok(())
}

/// Compact representation of the right edge of a tree: enough to append in O(log n) and
/// get the root.
///
/// It holds the tree size and the roots of the perfect subtrees that make up the tree, left
/// to right (largest first): one per bit set in the size, as in RFC 9162 §2.1.1's
/// decomposition of `D[n]` into `D[0:k]`, `D[k:n]`, ….
///
/// [`Frontier::to_bytes`] is a stable encoding: the size as 8 bytes big-endian, then the
/// subtree roots left to right, 32 bytes each (`8 + 32 * popcount(size)` bytes in all).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Frontier {
    size: u64,
    hashes: Vec<Hash>,
}

impl Frontier {
    /// The frontier of the empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of leaves appended so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The perfect-subtree roots, left to right.
    pub fn hashes(&self) -> &[Hash] {
        &self.hashes
    }

    /// Appends a leaf hash.
    ///
    /// A tree of `u64::MAX` leaves cannot grow: the leaf is then not appended (see
    /// [`Frontier::try_append`]), which no real log reaches.
    pub fn append(&mut self, leaf: Hash) {
        let _ = self.try_append(leaf);
    }

    /// Appends a leaf hash, failing only when the tree already holds `u64::MAX` leaves.
    pub fn try_append(&mut self, leaf: Hash) -> Result<(), AuditError> {
        let new_size = self.size.checked_add(1).ok_or(AuditError::TreeFull)?;
        // Each trailing one bit of the old size is a perfect subtree of the same height as
        // the one being completed: merge it in, right to left.
        let mut h = leaf;
        let mut s = self.size;
        while lsb(s) {
            match self.hashes.pop() {
                Some(left) => h = node_hash(&left, &h),
                None => break, // unreachable: hashes.len() == popcount(size)
            }
            s >>= 1;
        }
        self.hashes.push(h);
        self.size = new_size;
        Ok(())
    }

    /// The tree root, `MTH(D[size])`.
    pub fn root(&self) -> Hash {
        // MTH(D[n]) = HASH(0x01 || MTH(D[0:k]) || MTH(D[k:n])) where D[0:k] is the leftmost
        // perfect subtree and D[k:n] the rest, recursively: fold from the right.
        let mut it = self.hashes.iter().rev();
        let Some(last) = it.next() else {
            return empty_root();
        };
        it.fold(*last, |r, left| node_hash(left, &r))
    }

    /// The stable encoding: `size` (u64 big-endian) then the subtree roots left to right.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(8 + 32 * self.hashes.len());
        b.extend_from_slice(&self.size.to_be_bytes());
        for h in &self.hashes {
            b.extend_from_slice(h);
        }
        b
    }

    /// Parses [`Frontier::to_bytes`]; the length must be exactly what the size implies.
    pub fn from_bytes(b: &[u8]) -> Result<Self, AuditError> {
        let Some((size_bytes, rest)) = b.split_first_chunk::<8>() else {
            return Err(AuditError::MalformedFrontier("shorter than 8 bytes"));
        };
        let size = u64::from_be_bytes(*size_bytes);
        let count = size.count_ones() as usize;
        if rest.len() != 32 * count {
            return Err(AuditError::MalformedFrontier(
                "length does not match the tree size",
            ));
        }
        let hashes = rest
            .chunks_exact(32)
            .map(|c| {
                let mut h = [0u8; 32];
                h.copy_from_slice(c);
                h
            })
            .collect();
        Ok(Self { size, hashes })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hx(s: &str) -> Hash {
        let mut h = [0u8; 32];
        hex::decode_to_slice(s, &mut h).unwrap();
        h
    }

    /// The eight leaf inputs of the RFC 6962 reference tests (transparency-dev/merkle
    /// `testonly/constants.go`, originally google/certificate-transparency).
    fn reference_leaves() -> Vec<Hash> {
        [
            "",
            "00",
            "10",
            "2021",
            "3031",
            "40414243",
            "5051525354555657",
            "606162636465666768696a6b6c6d6e6f",
        ]
        .iter()
        .map(|s| leaf_hash(&hex::decode(s).unwrap()))
        .collect()
    }

    /// Roots for sizes 0..=8 (transparency-dev/merkle `testonly.RootHashes`).
    const REFERENCE_ROOTS: [&str; 9] = [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    /// Leaf hashes, level 0 of `testonly.NodeHashes`.
    const REFERENCE_LEAF_HASHES: [&str; 8] = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ];

    /// (leaf index, tree size, proof): transparency-dev/merkle `proof/verify_test.go`
    /// `inclusionProofs` (whose leaf numbers are 1-based) and `testonly/reference_test.go`.
    fn reference_inclusion_proofs() -> Vec<(u64, u64, Vec<&'static str>)> {
        vec![
            (0, 1, vec![]),
            (
                0,
                2,
                vec!["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"],
            ),
            (
                1,
                2,
                vec!["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"],
            ),
            (
                2,
                3,
                vec!["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
            ),
            (
                1,
                5,
                vec![
                    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                ],
            ),
            (
                0,
                8,
                vec![
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ],
            ),
            (
                5,
                8,
                vec![
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ],
            ),
        ]
    }

    /// (old size, new size, proof): transparency-dev/merkle `consistencyProofs` and
    /// `TestRefConsistencyProof`.
    fn reference_consistency_proofs() -> Vec<(u64, u64, Vec<&'static str>)> {
        vec![
            (1, 1, vec![]),
            (
                1,
                8,
                vec![
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ],
            ),
            (
                6,
                8,
                vec![
                    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ],
            ),
            (
                2,
                5,
                vec![
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                ],
            ),
            (
                6,
                7,
                vec![
                    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                    "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ],
            ),
        ]
    }

    /// Distinct leaf hashes for the exhaustive tests.
    fn leaves(n: usize) -> Vec<Hash> {
        (0..n as u32).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    #[test]
    fn known_leaf_and_empty_hashes() {
        assert_eq!(empty_root(), hx(REFERENCE_ROOTS[0]));
        for (got, want) in reference_leaves().iter().zip(REFERENCE_LEAF_HASHES) {
            assert_eq!(*got, hx(want));
        }
    }

    #[test]
    fn known_roots_for_sizes_0_to_8() {
        let l = reference_leaves();
        let mut f = Frontier::new();
        assert_eq!(f.root(), hx(REFERENCE_ROOTS[0]));
        for n in 0..=8 {
            assert_eq!(
                root_from_leaf_hashes(&l[..n]),
                hx(REFERENCE_ROOTS[n]),
                "n={n}"
            );
            if n > 0 {
                f.append(l[n - 1]);
                assert_eq!(f.root(), hx(REFERENCE_ROOTS[n]), "frontier n={n}");
            }
        }
    }

    #[test]
    fn known_inclusion_proofs() {
        let l = reference_leaves();
        for (index, size, want) in reference_inclusion_proofs() {
            let want: Vec<Hash> = want.into_iter().map(hx).collect();
            let got = inclusion_proof(&l[..size as usize], index).unwrap();
            assert_eq!(got, want, "index {index} size {size}");
            let root = hx(REFERENCE_ROOTS[size as usize]);
            verify_inclusion(&l[index as usize], index, size, &want, &root).unwrap();
        }
    }

    #[test]
    fn known_consistency_proofs() {
        let l = reference_leaves();
        for (m, n, want) in reference_consistency_proofs() {
            let want: Vec<Hash> = want.into_iter().map(hx).collect();
            let got = consistency_proof(&l[..n as usize], m).unwrap();
            assert_eq!(got, want, "{m} -> {n}");
            let (r1, r2) = (
                hx(REFERENCE_ROOTS[m as usize]),
                hx(REFERENCE_ROOTS[n as usize]),
            );
            verify_consistency(m, n, &r1, &r2, &want).unwrap();
        }
    }

    #[test]
    fn known_frontier_states() {
        // transparency-dev/merkle `testonly.CompactTrees`: the perfect-subtree roots.
        let l = reference_leaves();
        let nh = |level: usize, i: usize| -> Hash {
            let table: [&[&str]; 4] = [
                &REFERENCE_LEAF_HASHES,
                &[
                    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                ],
                &[
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ],
                &["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
            ];
            hx(table[level][i])
        };
        let want: Vec<Vec<Hash>> = vec![
            vec![],
            vec![nh(0, 0)],
            vec![nh(1, 0)],
            vec![nh(1, 0), nh(0, 2)],
            vec![nh(2, 0)],
            vec![nh(2, 0), nh(0, 4)],
            vec![nh(2, 0), nh(1, 2)],
            vec![nh(2, 0), nh(1, 2), nh(0, 6)],
            vec![nh(3, 0)],
        ];
        let mut f = Frontier::new();
        for (n, w) in want.iter().enumerate() {
            assert_eq!(f.hashes(), w.as_slice(), "size {n}");
            if n < 8 {
                f.append(l[n]);
            }
        }
    }

    #[test]
    fn frontier_matches_mth_for_sizes_0_to_70() {
        let l = leaves(70);
        let mut f = Frontier::new();
        for n in 0..=70 {
            assert_eq!(f.size(), n as u64);
            assert_eq!(f.root(), root_from_leaf_hashes(&l[..n]), "n={n}");
            assert_eq!(Frontier::from_bytes(&f.to_bytes()).unwrap(), f);
            if n < 70 {
                f.append(l[n]);
            }
        }
    }

    #[test]
    fn frontier_bytes_are_stable_and_strict() {
        let mut f = Frontier::new();
        assert_eq!(f.to_bytes(), vec![0u8; 8]);
        for h in leaves(3) {
            f.append(h);
        }
        let b = f.to_bytes();
        assert_eq!(b.len(), 8 + 2 * 32);
        assert_eq!(&b[..8], &[0, 0, 0, 0, 0, 0, 0, 3]);
        assert_eq!(&b[8..40], &node_hash(&leaves(3)[0], &leaves(3)[1]));
        assert_eq!(&b[40..], &leaves(3)[2]);
        assert!(Frontier::from_bytes(&b[..b.len() - 1]).is_err());
        assert!(Frontier::from_bytes(&[b.clone(), vec![0]].concat()).is_err());
        assert!(Frontier::from_bytes(&b[..7]).is_err());
        assert!(Frontier::from_bytes(&[]).is_err());
        let mut wrong_size = b.clone();
        wrong_size[7] = 4;
        assert!(Frontier::from_bytes(&wrong_size).is_err());
    }

    #[test]
    fn full_frontier_refuses_to_grow() {
        let mut b = u64::MAX.to_be_bytes().to_vec();
        b.extend(std::iter::repeat_n(7u8, 64 * 32));
        let mut f = Frontier::from_bytes(&b).unwrap();
        assert_eq!(f.try_append([1; 32]), Err(AuditError::TreeFull));
        let before = f.clone();
        f.append([1; 32]);
        assert_eq!(f, before);
    }

    proptest! {
        #[test]
        fn frontier_agrees_with_mth(n in 0usize..300) {
            let l = leaves(n);
            let mut f = Frontier::new();
            for h in &l {
                f.append(*h);
            }
            prop_assert_eq!(f.root(), root_from_leaf_hashes(&l));
            prop_assert_eq!(f.hashes().len(), n.count_ones() as usize);
            prop_assert_eq!(Frontier::from_bytes(&f.to_bytes()).unwrap(), f);
        }

        #[test]
        fn frontier_from_bytes_never_panics(b in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = Frontier::from_bytes(&b);
        }
    }

    /// Which side each proof hash goes on, derived from the recursive definition of
    /// `PATH(m, D[n])` (RFC 6962 §2.1.1), independently of the verifier's bit arithmetic.
    /// `true` means the proof hash is the left child.
    fn path_shape(m: u64, n: u64) -> Vec<bool> {
        if n <= 1 {
            return vec![];
        }
        let k = largest_power_of_two_smaller_than(n as usize) as u64;
        let mut s = if m < k {
            path_shape(m, k)
        } else {
            path_shape(m - k, n - k)
        };
        s.push(m >= k);
        s
    }

    /// What a consistency verifier does with each proof hash, derived from
    /// `SUBPROOF(m, D[n], b)` (RFC 6962 §2.1.2): whether the old root is implicit (the
    /// recursion ended on `SUBPROOF(m, D[m], true)`), then per hash whether it is the
    /// starting node (0), a right sibling of the new tree only (1), or a left sibling of
    /// both trees (2).
    fn subproof_shape(m: u64, n: u64, b: bool) -> (bool, Vec<u8>) {
        if m == n {
            return if b { (true, vec![]) } else { (false, vec![0]) };
        }
        let k = largest_power_of_two_smaller_than(n as usize) as u64;
        let (implicit, mut s) = if m <= k {
            subproof_shape(m, k, b)
        } else {
            subproof_shape(m - k, n - k, false)
        };
        s.push(if m <= k { 1 } else { 2 });
        (implicit, s)
    }

    fn inclusion_must_fail(leaf: &Hash, index: u64, size: u64, proof: &[Hash], root: &Hash) {
        assert!(
            verify_inclusion(leaf, index, size, proof, root).is_err(),
            "accepted a corrupted proof: index {index} size {size}"
        );
    }

    #[test]
    fn every_inclusion_proof_up_to_40_verifies_and_every_corruption_fails() {
        const N: u64 = 40;
        let l = leaves(2 * N as usize + 2);
        let roots: Vec<Hash> = (0..=l.len())
            .map(|n| root_from_leaf_hashes(&l[..n]))
            .collect();
        let other = leaf_hash(b"not in the tree");
        for size in 1..=N {
            let root = roots[size as usize];
            let tree = &l[..size as usize];
            for index in 0..size {
                let leaf = l[index as usize];
                let proof = inclusion_proof(tree, index).unwrap();
                assert_eq!(proof.len(), path_shape(index, size).len());
                verify_inclusion(&leaf, index, size, &proof, &root).unwrap();

                // Flip each byte of each hash.
                for i in 0..proof.len() {
                    for j in 0..32 {
                        let mut p = proof.clone();
                        p[i][j] ^= 0x01;
                        inclusion_must_fail(&leaf, index, size, &p, &root);
                    }
                }
                // Drop a hash, add a hash anywhere, swap two hashes.
                for i in 0..proof.len() {
                    let mut p = proof.clone();
                    p.remove(i);
                    inclusion_must_fail(&leaf, index, size, &p, &root);
                }
                for i in 0..=proof.len() {
                    for extra in [other, root, leaf, empty_root()] {
                        let mut p = proof.clone();
                        p.insert(i, extra);
                        inclusion_must_fail(&leaf, index, size, &p, &root);
                    }
                }
                for i in 0..proof.len() {
                    for j in i + 1..proof.len() {
                        let mut p = proof.clone();
                        p.swap(i, j);
                        inclusion_must_fail(&leaf, index, size, &p, &root);
                    }
                }
                // Wrong index (any other, and out of range).
                for wrong in (0..size + 2).filter(|&w| w != index) {
                    inclusion_must_fail(&leaf, wrong, size, &proof, &root);
                }
                inclusion_must_fail(&leaf, u64::MAX, size, &proof, &root);
                // Wrong size: fails unless the path has exactly the same shape, in which
                // case the size is indistinguishable from the proof alone (RFC 9162 does
                // not commit to the size in the root; checkpoints bind it).
                for wrong in (0..=2 * N + 1).filter(|&w| w != size) {
                    let ok = verify_inclusion(&leaf, index, wrong, &proof, &root).is_ok();
                    let alias =
                        index < wrong && path_shape(index, wrong) == path_shape(index, size);
                    assert_eq!(ok, alias, "index {index} size {size} claimed size {wrong}");
                }
                inclusion_must_fail(&leaf, index, size * 2, &proof, &root);
                if size / 2 > index {
                    inclusion_must_fail(&leaf, index, size / 2, &proof, &root);
                }
                inclusion_must_fail(&leaf, index, 0, &proof, &root);
                inclusion_must_fail(&leaf, index, u64::MAX, &proof, &root);
                // Wrong root: every byte flipped, other roots, the empty root.
                for j in 0..32 {
                    let mut r = root;
                    r[j] ^= 0x80;
                    inclusion_must_fail(&leaf, index, size, &proof, &r);
                }
                for (n, r) in roots.iter().enumerate() {
                    if n as u64 != size {
                        inclusion_must_fail(&leaf, index, size, &proof, r);
                    }
                }
                // Wrong leaf: another leaf of the tree, a foreign one, a flipped byte.
                for j in 0..32 {
                    let mut w = leaf;
                    w[j] ^= 0x10;
                    inclusion_must_fail(&w, index, size, &proof, &root);
                }
                inclusion_must_fail(&other, index, size, &proof, &root);
                for (i, w) in tree.iter().enumerate() {
                    if i as u64 != index {
                        inclusion_must_fail(w, index, size, &proof, &root);
                    }
                }
            }
            assert_eq!(
                inclusion_proof(tree, size),
                Err(AuditError::IndexOutOfRange { index: size, size })
            );
        }
        assert!(inclusion_proof(&[], 0).is_err());
        assert!(verify_inclusion(&l[0], 0, 0, &[], &empty_root()).is_err());
    }

    fn consistency_must_fail(m: u64, n: u64, r1: &Hash, r2: &Hash, proof: &[Hash]) {
        assert!(
            verify_consistency(m, n, r1, r2, proof).is_err(),
            "accepted a corrupted consistency proof {m} -> {n}"
        );
    }

    #[test]
    fn every_consistency_proof_up_to_40_verifies_and_every_corruption_fails() {
        const N: u64 = 40;
        let l = leaves(2 * N as usize + 2);
        let roots: Vec<Hash> = (0..=l.len())
            .map(|n| root_from_leaf_hashes(&l[..n]))
            .collect();
        let other = leaf_hash(b"not in the tree");
        // The verifier's view of a consistency proof for 0 < m < n.
        let shape = |m: u64, n: u64| subproof_shape(m, n, true);
        for n in 0..=N {
            let tree = &l[..n as usize];
            let r2 = roots[n as usize];
            for m in 0..=n {
                let r1 = roots[m as usize];
                let proof = consistency_proof(tree, m).unwrap();
                verify_consistency(m, n, &r1, &r2, &proof).unwrap();
                if m == 0 || m == n {
                    assert!(proof.is_empty());
                    // Trivial cases still check their roots and the empty proof.
                    consistency_must_fail(m, n, &other, &r2, &proof);
                    if m == n {
                        consistency_must_fail(m, n, &r1, &other, &proof);
                    }
                    consistency_must_fail(m, n, &r1, &r2, &[r1]);
                    continue;
                }
                assert_eq!(proof.len(), shape(m, n).1.len());

                // Flip each byte of each hash.
                for i in 0..proof.len() {
                    for j in 0..32 {
                        let mut p = proof.clone();
                        p[i][j] ^= 0x01;
                        consistency_must_fail(m, n, &r1, &r2, &p);
                    }
                }
                // Drop a hash, add a hash anywhere, swap two hashes, empty proof.
                for i in 0..proof.len() {
                    let mut p = proof.clone();
                    p.remove(i);
                    consistency_must_fail(m, n, &r1, &r2, &p);
                }
                for i in 0..=proof.len() {
                    for extra in [other, r1, r2, proof[0], empty_root()] {
                        let mut p = proof.clone();
                        p.insert(i, extra);
                        consistency_must_fail(m, n, &r1, &r2, &p);
                    }
                }
                for i in 0..proof.len() {
                    for j in i + 1..proof.len() {
                        if proof[i] != proof[j] {
                            let mut p = proof.clone();
                            p.swap(i, j);
                            consistency_must_fail(m, n, &r1, &r2, &p);
                        }
                    }
                }
                consistency_must_fail(m, n, &r1, &r2, &[]);
                // Wrong roots: flipped bytes, other sizes' roots, swapped.
                for j in 0..32 {
                    let (mut a, mut b) = (r1, r2);
                    a[j] ^= 0x80;
                    b[j] ^= 0x80;
                    consistency_must_fail(m, n, &a, &r2, &proof);
                    consistency_must_fail(m, n, &r1, &b, &proof);
                }
                for (k, r) in roots.iter().enumerate() {
                    if k as u64 != m {
                        consistency_must_fail(m, n, r, &r2, &proof);
                    }
                    if k as u64 != n {
                        consistency_must_fail(m, n, &r1, r, &proof);
                    }
                }
                consistency_must_fail(m, n, &r2, &r1, &proof);
                // Wrong sizes: fail unless the verifier sees exactly the same shape.
                for m2 in (0..=n + 1).filter(|&x| x != m) {
                    let ok = verify_consistency(m2, n, &r1, &r2, &proof).is_ok();
                    let alias = 0 < m2 && m2 < n && shape(m2, n) == shape(m, n);
                    assert_eq!(ok, alias, "{m} -> {n} claimed old size {m2}");
                }
                for n2 in (0..=2 * N + 1).filter(|&x| x != n) {
                    let ok = verify_consistency(m, n2, &r1, &r2, &proof).is_ok();
                    let alias = m < n2 && shape(m, n2) == shape(m, n);
                    assert_eq!(ok, alias, "{m} -> {n} claimed new size {n2}");
                }
                consistency_must_fail(m - 1, n, &r1, &r2, &proof);
                consistency_must_fail(m, n * 2, &r1, &r2, &proof);
                consistency_must_fail(n, m, &r1, &r2, &proof);
                consistency_must_fail(m, u64::MAX, &r1, &r2, &proof);
            }
            assert_eq!(
                consistency_proof(tree, n + 1),
                Err(AuditError::SizeOrder {
                    old_size: n + 1,
                    new_size: n
                })
            );
        }
    }

    #[test]
    fn consistency_edge_cases() {
        let some = leaf_hash(b"x");
        let e = empty_root();
        // transparency-dev `TestVerifyConsistency`, made stricter for size 0.
        assert!(verify_consistency(0, 0, &some, &[2; 32], &[]).is_err());
        assert!(verify_consistency(1, 1, &some, &[2; 32], &[]).is_err());
        assert!(verify_consistency(0, 0, &some, &some, &[]).is_ok());
        assert!(verify_consistency(1, 1, &some, &some, &[]).is_ok());
        assert!(verify_consistency(0, 1, &e, &some, &[]).is_ok());
        assert!(verify_consistency(0, 1, &some, &some, &[]).is_err());
        assert!(verify_consistency(1, 0, &some, &some, &[]).is_err());
        assert!(verify_consistency(2, 1, &some, &some, &[]).is_err());
        assert!(verify_consistency(1, 2, &some, &some, &[]).is_err());
        assert!(verify_consistency(0, 0, &e, &e, &[e]).is_err());
        assert!(verify_consistency(0, 1, &e, &e, &[e]).is_err());
        assert!(verify_consistency(1, 1, &e, &e, &[e]).is_err());
    }

    #[test]
    fn proof_lengths_at_large_sizes_stay_bounded() {
        // A proof can never be longer than 64 hashes for an inclusion, whatever it claims.
        let long = vec![[0u8; 32]; 65];
        assert_eq!(
            verify_inclusion(&[0; 32], 0, u64::MAX, &long, &[0; 32]),
            Err(AuditError::ProofTooLong)
        );
        let long = vec![[0u8; 32]; 200];
        assert_eq!(
            verify_consistency(3, u64::MAX, &[0; 32], &[0; 32], &long),
            Err(AuditError::ProofTooLong)
        );
    }
}
