//! Unit tests of the batched hot path: spool batches against one-by-one appends, damaged frames, the batch hand-over of the queue.

use super::spool::{Appended, FullAction, Spool};
use super::tests::{event, payload, serials, tempdir};
use super::{Sink, SinkConfig};

/// Append one by one, as the worker did before batches: with `Suspend`,
/// everything after the first refused payload is refused too.
fn one_by_one(sp: &mut Spool, payloads: &[Vec<u8>], action: FullAction) -> (u64, u64) {
    let (mut dropped_oldest, mut full) = (0, 0);
    let mut refusing = false;
    for p in payloads {
        if refusing {
            full += 1;
            continue;
        }
        match sp.append(p, action).unwrap() {
            Appended::Stored { dropped_oldest: d } => dropped_oldest += d,
            Appended::Full => {
                full += 1;
                refusing = action == FullAction::Suspend;
            }
        }
    }
    (dropped_oldest, full)
}

fn all(sp: &mut Spool) -> Vec<u64> {
    sp.rewind();
    serials(&sp.peek(usize::MAX, u64::MAX).unwrap())
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(40))]
    /// A batch leaves the spool as the same appends one by one would, with
    /// the same counts, whatever the sizes, limit and full action.
    #[test]
    fn batch_append_equals_one_by_one(
        pads in proptest::collection::vec(0usize..3000, 1..60),
        limit in 200u64..40_000,
        action in 0usize..3,
        before in 0usize..20,
    ) {
        let action = [FullAction::DropOldest, FullAction::DropNewest, FullAction::Suspend][action];
        let payloads: Vec<Vec<u8>> = pads
            .iter()
            .enumerate()
            .map(|(i, &pad)| {
                let mut p = payload(i as u64);
                p.resize(p.len() + pad, 0);
                p
            })
            .collect();
        let (da, db) = (tempdir("batch-a"), tempdir("batch-b"));
        let mut a = Spool::open(&da, limit).unwrap();
        let mut b = Spool::open(&db, limit).unwrap();
        let head: Vec<Vec<u8>> = (1000..1000 + before as u64).map(payload).collect();
        one_by_one(&mut a, &head, FullAction::DropNewest);
        one_by_one(&mut b, &head, FullAction::DropNewest);
        let want = one_by_one(&mut a, &payloads, action);
        let refs: Vec<&[u8]> = payloads.iter().map(|p| &p[..]).collect();
        let got = b.append_batch(&refs, action);
        proptest::prop_assert!(got.error.is_none());
        proptest::prop_assert_eq!((got.dropped_oldest, got.full), want);
        proptest::prop_assert_eq!(got.stored + got.full, payloads.len() as u64);
        proptest::prop_assert_eq!((a.events(), a.bytes()), (b.events(), b.bytes()));
        proptest::prop_assert_eq!(all(&mut a), all(&mut b));
        drop((a, b));
        // And what was stored survives a restart.
        let mut b2 = Spool::open(&db, limit).unwrap();
        let mut a2 = Spool::open(&da, limit).unwrap();
        proptest::prop_assert_eq!(all(&mut a2), all(&mut b2));
        let _ = std::fs::remove_dir_all(&da);
        let _ = std::fs::remove_dir_all(&db);
    }
}

#[test]
fn a_batch_is_one_write_per_segment() {
    let dir = tempdir("one-write");
    let mut sp = Spool::open(&dir, 64 << 20).unwrap();
    let payloads: Vec<Vec<u8>> = (0..500).map(payload).collect();
    let refs: Vec<&[u8]> = payloads.iter().map(|p| &p[..]).collect();
    let r = sp.append_batch(&refs, FullAction::DropOldest);
    assert_eq!((r.stored, r.full, r.failed), (500, 0, 0));
    let size: u64 = payloads.iter().map(|p| 8 + p.len() as u64).sum();
    assert_eq!(sp.bytes(), size);
    assert_eq!(all(&mut sp), (0..500).collect::<Vec<_>>());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_damaged_frame_costs_the_rest_of_its_segment_only() {
    let dir = tempdir("damaged");
    // 64 KiB segments.
    let mut sp = Spool::open(&dir, 512 << 10).unwrap();
    let payloads: Vec<Vec<u8>> = (0..1000).map(payload).collect();
    let refs: Vec<&[u8]> = payloads.iter().map(|p| &p[..]).collect();
    sp.append_batch(&refs, FullAction::DropNewest);
    let mut segs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "spool"))
        .collect();
    segs.sort();
    assert!(segs.len() >= 3);
    // Corrupt a payload byte in the middle of the first segment, after open
    // (and read from the file: what this process wrote it would otherwise
    // read back from memory).
    let mut bytes = std::fs::read(&segs[0]).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&segs[0], &bytes).unwrap();
    sp.forget_written();
    let mut delivered = 0u64;
    let err = loop {
        sp.rewind();
        let mut n = 0;
        match sp.peek_each(100, u64::MAX, |_| n += 1) {
            Ok(0) => panic!("the damaged frame was not noticed"),
            Ok(k) => {
                sp.ack(k).unwrap();
                delivered += k as u64;
            }
            // The frames before the damage were handed out: they go first.
            Err(e) => {
                sp.ack(n).unwrap();
                delivered += n as u64;
                break e;
            }
        }
    };
    assert!(err.to_string().contains("bad checksum"), "{err}");
    let lost = sp.skip_damaged().unwrap();
    assert!(lost > 0 && lost < 1000 - delivered, "{lost}");
    let rest = all(&mut sp);
    assert_eq!(delivered + lost + rest.len() as u64, 1000);
    assert_eq!(rest, ((delivered + lost)..1000).collect::<Vec<_>>());
    assert_eq!(sp.events(), rest.len() as u64);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn submit_batch_takes_what_fits_and_counts_the_rest() {
    let dir = tempdir("submit-batch");
    let cfg = SinkConfig::from_toml(&format!(
        "type = \"syslog\"\ntransport = \"tcp\"\nport = 1\nqueue_depth = 64\nspool_dir = {:?}\n",
        dir.display().to_string()
    ))
    .unwrap();
    let sink = cfg.start().unwrap();
    let batch: Vec<_> = (0..1000).map(event).collect();
    let mut taken = 0;
    for _ in 0..20 {
        taken += sink.submit_batch(&batch) as u64;
    }
    sink.close();
    let st = sink.stats();
    assert_eq!(st.submitted, 20_000);
    assert_eq!(st.dropped, 20_000 - taken, "{st:?}");
    assert_eq!(st.spooled, taken, "{st:?}");
    assert_eq!(st.queued, 0);
    // The spooled events are the first ones of each batch, in order.
    drop(sink);
    let mut sp = Spool::open(&dir, 256 << 20).unwrap();
    let got = all(&mut sp);
    assert_eq!(got.len() as u64, taken);
    assert!(got.windows(2).all(|w| w[0] < w[1] || w[1] == 0), "{got:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn frames_of_the_older_checksum_are_still_delivered() {
    let dir = tempdir("fnv");
    std::fs::create_dir_all(&dir).unwrap();
    let p = payload(42);
    let mut fnv: u32 = 0x811c_9dc5;
    for &c in &p {
        fnv = (fnv ^ c as u32).wrapping_mul(0x0100_0193);
    }
    let mut frame = (p.len() as u32).to_le_bytes().to_vec();
    frame.extend_from_slice(&fnv.to_le_bytes());
    frame.extend_from_slice(&p);
    std::fs::write(dir.join(format!("{:020}.spool", 1)), &frame).unwrap();
    std::fs::write(dir.join("cursor"), "1 0\n").unwrap();
    let mut sp = Spool::open(&dir, 1 << 20).unwrap();
    sp.append(&payload(43), FullAction::DropNewest).unwrap();
    assert_eq!(all(&mut sp), vec![42, 43]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// What a spool hands out is the same whether it comes from its memory of
/// the latest writes or from the files: written here, read here (memory and,
/// past its size, files), and read after a restart (files only).
#[test]
fn memory_and_files_hand_out_the_same_frames() {
    let dir = tempdir("recent");
    let mut sp = Spool::open(&dir, 64 << 20).unwrap();
    // About 12 MiB in batches of 100: more than the memory keeps.
    let payloads: Vec<Vec<u8>> = (0..3000).map(|i| vec![(i % 251) as u8; 4000 + i]).collect();
    for batch in payloads.chunks(100) {
        let refs: Vec<&[u8]> = batch.iter().map(|p| &p[..]).collect();
        assert_eq!(sp.append_batch(&refs, FullAction::DropNewest).stored, 100);
    }
    let read = |sp: &mut Spool| {
        let mut got = Vec::new();
        loop {
            let n = sp.peek_each(70, 1 << 20, |p| got.push(p.to_vec())).unwrap();
            if n == 0 {
                break got;
            }
        }
    };
    assert!(read(&mut sp) == payloads);
    sp.rewind();
    drop(sp);
    let mut sp = Spool::open(&dir, 64 << 20).unwrap();
    assert!(read(&mut sp) == payloads);
    sp.ack(3000).unwrap();
    assert_eq!(sp.events(), 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn wait_spooled_returns_once_the_intake_has_stored_everything() {
    let dir = tempdir("wait-spooled");
    let cfg = SinkConfig::from_toml(&format!(
        "type = \"syslog\"\ntransport = \"tcp\"\nport = 1\nqueue_depth = 64\nspool_dir = {:?}\n",
        dir.display().to_string()
    ))
    .unwrap();
    let sink = cfg.start().unwrap();
    // Nothing submitted: at once.
    assert!(sink.wait_spooled(std::time::Duration::ZERO));
    let mut batch = crate::audit::packed::Packed::default();
    for serial in 0..500 {
        batch.push(|b| event(serial).encode(b));
    }
    for _ in 0..10 {
        assert_eq!(sink.submit_encoded_waiting(&batch), 500);
        assert!(sink.wait_spooled(std::time::Duration::from_secs(10)));
        assert!(sink.all_spooled());
    }
    let st = sink.stats();
    assert_eq!((st.queued, st.dropped), (0, 0), "{st:?}");
    assert_eq!(st.spooled + st.sent, 5000, "{st:?}");
    sink.close();
    let _ = std::fs::remove_dir_all(&dir);
}
