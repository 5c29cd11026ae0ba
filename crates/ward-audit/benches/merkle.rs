//! Hot paths of the audit log: append, proof generation and verification, signing.

use criterion::{Criterion, criterion_group, criterion_main};
use ed25519_dalek::SigningKey;
use std::hint::black_box;
use ward_audit::{
    Checkpoint, Frontier, Hash, NoteSigner, inclusion_proof, leaf_hash, open_checkpoint,
    root_from_leaf_hashes, sign_checkpoint, verify_inclusion,
};

fn leaves(n: u32) -> Vec<Hash> {
    (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
}

fn merkle(c: &mut Criterion) {
    let l = leaves(1024);

    c.bench_function("frontier_append", |b| {
        let mut f = Frontier::new();
        let leaf = leaf_hash(b"event");
        b.iter(|| f.append(black_box(leaf)));
    });

    c.bench_function("frontier_root_1M", |b| {
        let mut f = Frontier::new();
        for i in 0..(1u32 << 20) - 1 {
            f.append(leaf_hash(&i.to_be_bytes()));
        }
        b.iter(|| black_box(&f).root());
    });

    c.bench_function("inclusion_proof_1024", |b| {
        b.iter(|| inclusion_proof(black_box(&l), black_box(517)));
    });

    let root = root_from_leaf_hashes(&l);
    let proof = inclusion_proof(&l, 517).unwrap_or_default();
    c.bench_function("verify_inclusion_1024", |b| {
        b.iter(|| {
            verify_inclusion(
                black_box(&l[517]),
                517,
                1024,
                black_box(&proof),
                black_box(&root),
            )
        });
    });

    let Ok(signer) = NoteSigner::new("ward.example/audit", SigningKey::from_bytes(&[1; 32])) else {
        return;
    };
    let cp = Checkpoint {
        origin: "ward.example/audit".into(),
        size: 1024,
        root,
    };
    c.bench_function("checkpoint_sign", |b| {
        b.iter(|| sign_checkpoint(black_box(&signer), black_box(&cp)));
    });

    let note = sign_checkpoint(&signer, &cp);
    let verifier = signer.verifier();
    c.bench_function("checkpoint_open", |b| {
        b.iter(|| open_checkpoint(black_box(&verifier), black_box(&note)));
    });
}

criterion_group!(benches, merkle);
criterion_main!(benches);
