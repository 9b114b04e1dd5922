#![allow(clippy::unwrap_used)]
//! Crash safety of the persistent tree (issue "Persistence": "a kill at any instant leaves
//! the last committed state or the one before, never a mix"; "the crash test passes 200
//! random kill points").
//!
//! `kill_at_random_points` re-runs this test binary as a writer process
//! (`crash_writer_child`, selected with `--exact` and told where the state directory is by
//! `DM_TREE_CRASH_DIR`). The writer opens the tree with `Tree::open_dir` and commits one
//! generation after another: each generation `g` is one `Tree::atomically` that sets about
//! twenty leaves spread over several interior nodes to `g`, renames one subtree, deletes and
//! re-creates another, adds or deletes a leaf depending on the parity of `g`, and changes an
//! ACL and a Title (facts §4.3, §4.4); after each commit it prints `committed g`. The parent
//! kills it with SIGKILL after a random delay (seeded; during start-up, between and in the
//! middle of commits), reopens the state directory and checks that the tree is exactly
//! generation `g'` for one `g'`, which is the last printed generation or the next one (that
//! commit may have finished after the print was lost). Every run resumes from the state the
//! previous kill left.
//!
//! Set `DM_TREE_CRASH_SEED` to replay another sequence of kill points.

#![cfg(unix)]

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dm_protocol::tnds::Format;
use dm_protocol::uri::{NodeUri, Property};
use dm_tree::{LeafValue, NewNode, NodeKind, Principal, SystemClock, Tree, TreeConfig, TreeError};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Tells the re-executed binary that it is the writer, and where the state lives.
const ENV_DIR: &str = "DM_TREE_CRASH_DIR";
/// Overrides the seed of the kill points.
const ENV_SEED: &str = "DM_TREE_CRASH_SEED";
const KILLS: usize = 200;
/// Interior nodes holding the generation leaves.
const GROUPS: [&str; 4] = ["A", "B", "C", "D"];
/// Leaves per group.
const LEAVES: usize = 5;
/// The writer gives up on its own after this long, in case nobody kills it.
const WRITER_LIFETIME: Duration = Duration::from_secs(120);

fn uri(s: &str) -> NodeUri {
    NodeUri::parse(s).unwrap()
}

fn open(dir: &Path) -> Result<Tree, dm_tree::store::StoreError> {
    Tree::open_dir(dir, TreeConfig::default(), Arc::new(SystemClock))
}

/// The generation the tree holds (0 for a tree without `./Crash`).
fn generation(t: &Tree) -> u64 {
    t.value_str("./Crash/A/L0")
        .map(|v| v.parse().unwrap())
        .unwrap_or(0)
}

fn acl(g: u64) -> String {
    format!("Get=s{g}&Replace=s{g}")
}

fn title(g: u64) -> String {
    format!("generation {g}")
}

/// Create or replace a leaf as the device.
fn put(t: &mut Tree, at: &str, value: NewNode) -> Result<(), TreeError> {
    if t.exists(&uri(at)) {
        t.replace(&Principal::Local, at, value)
    } else {
        t.add(&Principal::Local, at, value).map(|_| ())
    }
}

/// Turn generation `g - 1` into generation `g` in one transaction.
fn write_generation(t: &mut Tree, g: u64) -> Result<(), TreeError> {
    let l = Principal::Local;
    let v = g.to_string();
    t.atomically(|t| {
        for grp in GROUPS {
            for i in 0..LEAVES {
                put(t, &format!("./Crash/{grp}/L{i}"), NewNode::leaf(v.as_str()))?;
            }
        }
        put(
            t,
            "./Crash/Bin",
            NewNode::leaf(g.to_be_bytes().to_vec())
                .format(Format::Bin)
                .typed("application/octet-stream"),
        )?;
        // A subtree renamed every generation: its id (and child) carry over.
        let prev = format!("./Crash/E/G{}", g - 1);
        if t.exists(&uri(&prev)) {
            t.replace_prop(&l, &prev, Property::Name, &format!("G{g}"))?;
        } else {
            t.add(&l, &format!("./Crash/E/G{g}"), NewNode::interior())?;
        }
        put(t, &format!("./Crash/E/G{g}/V"), NewNode::leaf(v.as_str()))?;
        // A subtree deleted and re-created every generation.
        let prev = format!("./Crash/E/T{}", g - 1);
        if t.exists(&uri(&prev)) {
            t.delete(&l, &prev)?;
        }
        for leaf in ["X", "Y"] {
            t.add(
                &l,
                &format!("./Crash/E/T{g}/{leaf}"),
                NewNode::leaf(v.as_str()),
            )?;
        }
        // A leaf that exists in odd generations only.
        if g % 2 == 1 {
            t.add(&l, "./Crash/Odd", NewNode::leaf(v.as_str()))?;
        } else if t.exists(&uri("./Crash/Odd")) {
            t.delete(&l, "./Crash/Odd")?;
        }
        t.replace_prop(&l, "./Crash/A", Property::Acl, &acl(g))?;
        t.replace_prop(&l, "./Crash/B", Property::Title, &title(g))?;
        Ok(())
    })
}

fn children(t: &Tree, at: &str) -> Vec<String> {
    match t.info(&uri(at)).map(|i| i.kind) {
        Some(NodeKind::Interior(c)) => c,
        other => panic!("{at} is not an interior node: {other:?}"),
    }
}

fn leaf(t: &Tree, at: &str) -> Vec<u8> {
    match t.info(&uri(at)).map(|i| i.kind) {
        Some(NodeKind::Leaf(LeafValue(v))) => v,
        other => panic!("{at} is not a leaf: {other:?}"),
    }
}

/// Check that the tree is exactly one generation, all of it; return that generation.
fn check(t: &Tree) -> u64 {
    let g = generation(t);
    if g == 0 {
        assert!(!t.exists(&uri("./Crash")), "./Crash without ./Crash/A/L0");
        assert_eq!(t.len(), 1, "only the root before the first generation");
        return 0;
    }
    let v = g.to_string();
    let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let mut top = names(&["A", "B", "Bin", "C", "D", "E"]);
    if g % 2 == 1 {
        top.push("Odd".into());
    }
    assert_eq!(children(t, "./Crash"), top, "generation {g}");
    let leaves: Vec<String> = (0..LEAVES).map(|i| format!("L{i}")).collect();
    for grp in GROUPS {
        assert_eq!(
            children(t, &format!("./Crash/{grp}")),
            leaves,
            "generation {g}"
        );
        for l in &leaves {
            let at = format!("./Crash/{grp}/{l}");
            assert_eq!(leaf(t, &at), v.as_bytes(), "{at}: a mix of generations");
            // Added in generation 1, replaced once in every generation since (facts §4.3).
            let ver_no = t.info(&uri(&at)).unwrap().ver_no;
            assert_eq!(u64::from(ver_no), (g - 1) % 65_536, "{at} VerNo");
        }
    }
    let bin = t.info(&uri("./Crash/Bin")).unwrap();
    assert_eq!(bin.format, Format::Bin);
    assert_eq!(leaf(t, "./Crash/Bin"), g.to_be_bytes(), "./Crash/Bin");
    assert_eq!(
        children(t, "./Crash/E"),
        vec![format!("G{g}"), format!("T{g}")],
        "generation {g}"
    );
    assert_eq!(children(t, &format!("./Crash/E/G{g}")), names(&["V"]));
    assert_eq!(leaf(t, &format!("./Crash/E/G{g}/V")), v.as_bytes());
    assert_eq!(children(t, &format!("./Crash/E/T{g}")), names(&["X", "Y"]));
    for l in ["X", "Y"] {
        assert_eq!(leaf(t, &format!("./Crash/E/T{g}/{l}")), v.as_bytes());
    }
    if g % 2 == 1 {
        assert_eq!(leaf(t, "./Crash/Odd"), v.as_bytes());
    }
    assert_eq!(t.info(&uri("./Crash/A")).unwrap().acl, acl(g));
    assert_eq!(t.info(&uri("./Crash/B")).unwrap().title, Some(title(g)));
    // root, Crash, 4 groups of 1 + 5, Bin, E, G + V, T + X + Y, Odd in odd generations.
    let nodes = 1 + 1 + GROUPS.len() * (1 + LEAVES) + 1 + 1 + 2 + 3 + usize::from(g % 2 == 1);
    assert_eq!(t.len(), nodes, "generation {g}: stray nodes");
    g
}

/// The writer process: commit generations until killed.
#[test]
#[ignore = "the writer process of kill_at_random_points; does nothing unless DM_TREE_CRASH_DIR is set"]
fn crash_writer_child() {
    let Some(dir) = std::env::var_os(ENV_DIR) else {
        return;
    };
    let started = Instant::now();
    let mut t = open(Path::new(&dir)).unwrap();
    let mut g = generation(&t);
    // Write to the process's stdout directly, past the test harness's capture.
    let mut out = std::io::stdout();
    while started.elapsed() < WRITER_LIFETIME {
        g += 1;
        write_generation(&mut t, g).unwrap();
        // A closed pipe (the parent is gone) ends the writer here.
        writeln!(out, "committed {g}").unwrap();
        out.flush().unwrap();
    }
}

/// A kill delay: one in six during the writer's start-up (process start, opening the
/// store), the rest anywhere in 5–150 ms, to the microsecond so kills fall at every point
/// of a commit.
fn delay(rng: &mut ChaCha8Rng) -> Duration {
    let micros = if rng.random_ratio(1, 6) {
        rng.random_range(0..8_000)
    } else {
        rng.random_range(5_000..150_000)
    };
    Duration::from_micros(micros)
}

#[test]
fn kill_at_random_points() {
    let seed = std::env::var(ENV_SEED)
        .ok()
        .map(|s| s.parse().unwrap())
        .unwrap_or(0x0D3A_7EE5);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let exe = std::env::current_exe().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();

    let mut recovered = 0;
    let mut distinct = BTreeSet::new();
    let mut advanced = 0;
    let mut before_first_print = 0;
    let mut ahead_of_print = 0;
    for kill in 0..KILLS {
        let wait = delay(&mut rng);
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "crash_writer_child",
                "--nocapture",
                "--include-ignored",
                "--test-threads=1",
            ])
            .env(ENV_DIR, dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        // Read while the writer runs, so a full pipe never stalls it.
        let reader = std::thread::spawn(move || {
            let mut last = None;
            for line in BufReader::new(stdout).lines() {
                let line = line.unwrap();
                // The first report shares its line with the harness's
                // "test crash_writer_child ... " header.
                if let Some((_, g)) = line.rsplit_once("committed ") {
                    last = Some(g.parse::<u64>().unwrap());
                }
            }
            last
        });
        let errors = std::thread::spawn(move || {
            let mut s = String::new();
            stderr.read_to_string(&mut s).unwrap();
            s
        });
        std::thread::sleep(wait);
        let _ = child.kill();
        let status = child.wait().unwrap();
        let printed = reader.join().unwrap();
        let errors = errors.join().unwrap();
        assert_eq!(
            status.signal(),
            Some(9),
            "kill {kill}: the writer ended on its own ({status}):\n{errors}"
        );

        let t = open(dir.path())
            .unwrap_or_else(|e| panic!("kill {kill} after {wait:?}: the state does not load: {e}"));
        let g = check(&t);
        drop(t);
        let base = printed.unwrap_or(recovered);
        assert!(
            g == base || g == base + 1,
            "kill {kill} after {wait:?}: recovered generation {g}, but the writer started from \
             {recovered} and last printed {printed:?}"
        );
        if printed.is_none() {
            before_first_print += 1;
        }
        if g == base + 1 {
            ahead_of_print += 1;
        }
        if g > recovered {
            advanced += 1;
        }
        recovered = g;
        distinct.insert(g);
    }
    println!(
        "{KILLS} kills (seed {seed:#x}) in {:.1?}: {} distinct recovered generations, last {recovered}; \
         {advanced} runs advanced, {before_first_print} killed before their first commit was \
         printed, {ahead_of_print} recovered a commit whose print was lost",
        started.elapsed(),
        distinct.len(),
    );
    assert!(
        advanced >= KILLS / 4,
        "the writer committed in only {advanced} of {KILLS} runs"
    );
    assert!(distinct.len() >= KILLS / 4, "{distinct:?}");
}
