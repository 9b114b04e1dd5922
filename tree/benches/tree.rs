//! Tree engine throughput on a device with about 100,000 nodes: single-node reads and writes,
//! a `?list=StructData` export of a 10,000-node subtree, the cost of one durable (SQLite)
//! commit, and the command-layer overhead of [`Processor`].
//!
//! Run with `cargo bench -p dm-tree --bench tree`; figures and their meaning are recorded in
//! `docs/performance.md`.
//!
//! The tree: the standard MOs ([`standard::install`]), one DMAcc account for the acting
//! server `bench-srv`, and a vendor subtree `./Vendor` whose own ACL grants that server
//! `Add`, `Delete`, `Get` and `Replace`:
//! `./Vendor/G<g>/N<iii>/L<jj>` with 10 groups × 100 interior nodes × 100 `chr` leaves =
//! 100,000 leaves, 101,011 vendor nodes, each group a subtree of 10,101 nodes. It is built
//! once per tree by local code in one `atomically` batch (outside the measurements).
//!
//! Every operation runs as `Principal::Server("bench-srv")`, so ACL inheritance (leaf →
//! `./Vendor`) and the DDF checks are on the measured path. Target leaves come from a
//! fixed pseudo-random sequence (ChaCha8, seed 42) of 4,096 URIs, cycled through, so reads
//! are spread over the whole tree instead of hitting one cached path.
//!
//! * `get_leaf`: [`Tree::get`] of a leaf (value, Format, Type).
//! * `get_prop`: [`Tree::get_prop`] of `VerNo` on a leaf.
//! * `replace_leaf`: [`Tree::replace`] of a leaf value on an in-memory tree (transaction,
//!   undo log, VerNo/TStamp bump, change event; no store).
//! * `list_structdata_10k`: [`Tree::list`] with `?list=StructData` on one group (10,101
//!   nodes, throughput counted in nodes).
//! * `processor_get`: a `Get` command with one item through [`Processor::process`]
//!   (`UriRef` parsing, `Tree::get`, building the Results item).
//! * `committed_change_sqlite`: one `Replace` on a tree opened on a [`SqliteStore`] in a
//!   temporary directory on the ordinary file system (WAL, `synchronous=FULL`): the whole
//!   durable commit. `committed_change_sqlite_batch100`: the 100 leaves of one interior node
//!   replaced in one `atomically` batch (one SQLite transaction; throughput in leaves).
//! * `committed_change_sqlite_tmpfs` / `..._tmpfs_batch100`: the same on `/dev/shm` (tmpfs:
//!   fsync costs nothing there), to separate the flush to disk from SQLite's own work.
//! * `committed_change_memory_store`: the same single `Replace` committed to a
//!   [`MemoryStore`]: the tree's side of a commit (dirty rows to [`StoredNode`] batch) alone.
//!
//! [`StoredNode`]: dm_tree::store::StoredNode
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use dm_protocol::codes::StatusCode;
use dm_protocol::model::{Command, Item, ItemCommand, Locator};
use dm_protocol::uri::{ListQuery, Property};
use dm_tree::standard::{self, Account, DeviceIdentity};
use dm_tree::store::{MemoryStore, SqliteStore, Store};
use dm_tree::{ManualClock, NewNode, NoHooks, Principal, Processor, Tree, TreeConfig};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The acting server.
const SERVER: &str = "bench-srv";
/// Vendor subtree shape: groups × interior nodes per group × leaves per interior node.
const GROUPS: usize = 10;
const INTERIOR: usize = 100;
const LEAVES: usize = 100;
/// Nodes of one group's subtree: the group node, its interior nodes and their leaves.
const GROUP_NODES: u64 = (1 + INTERIOR + INTERIOR * LEAVES) as u64;
/// Length of the pseudo-random target sequence.
const TARGETS: usize = 4096;

fn leaf_uri(g: usize, i: usize, j: usize) -> String {
    format!("./Vendor/G{g}/N{i:03}/L{j:02}")
}

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::at(1_795_000_000))
}

/// Install the standard MOs, the server's account and the 100k-node vendor subtree.
fn populate(tree: &mut Tree) {
    standard::install(tree, &DeviceIdentity::default()).unwrap();
    standard::put_account(
        tree,
        &Account {
            node: SERVER.into(),
            server_id: SERVER.into(),
            name: "Benchmark server".into(),
            addr: "https://dms.example.com/oma-dm".into(),
            aauth_pref: "DIGEST".into(),
            auth: vec![],
        },
    )
    .unwrap();
    let local = Principal::Local;
    tree.atomically(|t| {
        t.add(&local, "./Vendor", NewNode::interior())?;
        t.replace_prop(
            &local,
            "./Vendor",
            Property::Acl,
            &format!("Add={SERVER}&Delete={SERVER}&Get={SERVER}&Replace={SERVER}"),
        )?;
        for g in 0..GROUPS {
            for i in 0..INTERIOR {
                for j in 0..LEAVES {
                    let value = format!("value {g}.{i}.{j} of the vendor config");
                    t.add(&local, &leaf_uri(g, i, j), NewNode::leaf(value))?;
                }
            }
        }
        Ok(())
    })
    .unwrap();
}

/// A populated tree on `store` (in memory when `None`), with the time it took to build.
fn build(store: Option<Box<dyn Store>>) -> (Tree, Duration) {
    let start = Instant::now();
    let mut tree = match store {
        None => Tree::with_clock(TreeConfig::default(), clock()),
        Some(s) => Tree::open(TreeConfig::default(), clock(), s).unwrap(),
    };
    populate(&mut tree);
    (tree, start.elapsed())
}

/// The fixed pseudo-random leaf targets.
fn targets() -> Vec<String> {
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    (0..TARGETS)
        .map(|_| {
            leaf_uri(
                rng.random_range(0..GROUPS),
                rng.random_range(0..INTERIOR),
                rng.random_range(0..LEAVES),
            )
        })
        .collect()
}

/// The leaves of interior node `n` (cycling over all interior nodes), for batch writes.
fn batch_uris(n: usize) -> Vec<String> {
    let (g, i) = ((n / INTERIOR) % GROUPS, n % INTERIOR);
    (0..LEAVES).map(|j| leaf_uri(g, i, j)).collect()
}

fn get_command(uri: &str) -> Command {
    Command::Get(ItemCommand {
        cmd_id: "3".into(),
        items: vec![Item {
            target: Some(Locator::uri(uri)),
            ..Item::default()
        }],
        ..ItemCommand::default()
    })
}

/// Benchmarks on the in-memory tree.
fn in_memory(g: &mut BenchmarkGroup<'_, WallTime>, targets: &[String]) {
    let (mut tree, took) = build(None);
    println!(
        "in-memory tree: {} nodes, built in {:.2} s",
        tree.len(),
        took.as_secs_f64()
    );
    let who = Principal::server(SERVER);

    // Sanity: the server can read and write every target, the list covers a whole group.
    for u in targets.iter().take(64) {
        tree.get(&who, u).unwrap();
        tree.get_prop(&who, u, Property::VerNo).unwrap();
    }
    let mut p = Processor::new();
    let list = Command::Get(ItemCommand {
        cmd_id: "2".into(),
        items: vec![Item {
            target: Some(Locator::uri("./Vendor/G3?list=StructData")),
            ..Item::default()
        }],
        ..ItemCommand::default()
    });
    let out = p.process(&mut tree, &who, &list, &mut NoHooks);
    assert_eq!(out.code, StatusCode::Ok);
    assert_eq!(out.results.len() as u64, GROUP_NODES);
    let out = p.process(&mut tree, &who, &get_command(&targets[0]), &mut NoHooks);
    assert_eq!((out.code, out.results.len()), (StatusCode::Ok, 1));

    g.throughput(Throughput::Elements(1));
    let mut k = 0;
    g.bench_function("get_leaf", |b| {
        b.iter(|| {
            k = (k + 1) % targets.len();
            tree.get(&who, black_box(&targets[k])).unwrap()
        })
    });
    g.bench_function("get_prop", |b| {
        b.iter(|| {
            k = (k + 1) % targets.len();
            tree.get_prop(&who, black_box(&targets[k]), Property::VerNo)
                .unwrap()
        })
    });
    g.bench_function("replace_leaf", |b| {
        b.iter(|| {
            k = (k + 1) % targets.len();
            tree.replace(&who, black_box(&targets[k]), NewNode::leaf("updated"))
                .unwrap()
        })
    });
    let commands: Vec<Command> = targets.iter().map(|u| get_command(u)).collect();
    g.bench_function("processor_get", |b| {
        b.iter(|| {
            k = (k + 1) % commands.len();
            p.process(&mut tree, &who, black_box(&commands[k]), &mut NoHooks)
        })
    });

    g.throughput(Throughput::Elements(GROUP_NODES));
    g.bench_function("list_structdata_10k", |b| {
        b.iter(|| {
            tree.list(&who, black_box("./Vendor/G3"), &ListQuery::StructData)
                .unwrap()
        })
    });
}

/// Single and 100-leaf committed changes on a tree backed by `store`.
fn committed(
    g: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    store: Box<dyn Store>,
    targets: &[String],
    batch: bool,
) {
    let (mut tree, took) = build(Some(store));
    println!(
        "{name}: {} nodes, built and committed in {:.2} s",
        tree.len(),
        took.as_secs_f64()
    );
    let who = Principal::server(SERVER);

    g.throughput(Throughput::Elements(1));
    let mut k = 0;
    g.bench_function(name, |b| {
        b.iter(|| {
            k = (k + 1) % targets.len();
            tree.replace(&who, black_box(&targets[k]), NewNode::leaf("updated"))
                .unwrap()
        })
    });
    if !batch {
        return;
    }
    let batches: Vec<Vec<String>> = (0..64).map(|n| batch_uris(n * 17)).collect();
    g.throughput(Throughput::Elements(LEAVES as u64));
    let mut n = 0;
    g.bench_function(format!("{name}_batch100"), |b| {
        b.iter(|| {
            n = (n + 1) % batches.len();
            tree.atomically(|t| {
                for u in &batches[n] {
                    t.replace(&who, u, NewNode::leaf("batched"))?;
                }
                Ok(())
            })
            .unwrap()
        })
    });
}

fn sqlite_in(dir: &Path) -> Box<dyn Store> {
    Box::new(SqliteStore::open(dir).unwrap())
}

fn tree_benches(c: &mut Criterion) {
    let targets = targets();
    let mut g = c.benchmark_group("tree_100k");
    g.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30);

    in_memory(&mut g, &targets);

    let disk = tempfile::Builder::new()
        .prefix("dm-tree-bench")
        .tempdir()
        .unwrap();
    committed(
        &mut g,
        "committed_change_sqlite",
        sqlite_in(disk.path()),
        &targets,
        true,
    );
    drop(disk);

    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        let tmpfs = tempfile::Builder::new()
            .prefix("dm-tree-bench")
            .tempdir_in(shm)
            .unwrap();
        committed(
            &mut g,
            "committed_change_sqlite_tmpfs",
            sqlite_in(tmpfs.path()),
            &targets,
            true,
        );
    } else {
        println!("no /dev/shm: committed_change_sqlite_tmpfs skipped");
    }

    committed(
        &mut g,
        "committed_change_memory_store",
        Box::new(MemoryStore::default()),
        &targets,
        false,
    );
    g.finish();
}

criterion_group!(benches, tree_benches);
criterion_main!(benches);
