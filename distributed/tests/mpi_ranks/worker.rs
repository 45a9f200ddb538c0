//! The rank side: what every process of a job started by the launcher runs. Any failed check
//! panics, and a panic aborts the whole job (non-zero `mpirun` status).

use crate::support::{
    batches, loader, max_abs_diff, train_reference, train_replica, Arch, Normalisation, State,
    LOCAL_VS_GLOBAL_MIN_GAP, SEED, SMALL_BUCKET_BYTES, TOLERANCE,
};
use std::path::PathBuf;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::Duration;
use strata_distributed::{Collective, DataParallel, MpiWorld, DEFAULT_BUCKET_BYTES};
use strata_modules::{Adam, Classification, Event, Module, TrainConfig, Trainer};

/// First argument that makes this program a rank: `--worker SCENARIO RANKS [PATH]`.
pub const FLAG: &str = "--worker";
/// The equivalence checks (also what the two simulated hosts run).
pub const EQUIVALENCE: &str = "equivalence";
/// Rank 1 panics in the middle of epoch 1.
pub const FAULT_PANIC: &str = "fault-panic";
/// Rank 1 cannot read a batch in epoch 1 and aborts the job.
pub const FAULT_DATA: &str = "fault-data";
/// Rank 1 is killed (SIGKILL, as by the out-of-memory killer) in the middle of epoch 1.
pub const FAULT_KILLED: &str = "fault-killed";
/// Rank 1 stops responding in the middle of epoch 1; rank 0's watchdog ends the job.
pub const FAULT_STALL: &str = "fault-stall";
/// Collective timeout of the stall scenario: a step of its small model takes milliseconds,
/// so even a machine slowed tenfold never waits this long except for the stalled rank.
pub const STALL_TIMEOUT: Duration = Duration::from_secs(10);
/// Exit status of the job when rank 1 aborts for lack of data.
pub const DATA_ERROR_EXIT_CODE: i32 = 3;
/// The panic message of [`FAULT_PANIC`].
pub const INJECTED_PANIC: &str = "injected failure on rank 1 in epoch 1";
/// Epochs of the fault scenarios: a checkpoint after epoch 0, the failure in epoch 1.
const FAULT_EPOCHS: usize = 3;

pub fn run(args: &[String]) -> ExitCode {
    let (scenario, ranks) = match args {
        [scenario, ranks, ..] => (scenario.as_str(), ranks.parse::<usize>()),
        _ => return usage(),
    };
    let Ok(ranks) = ranks else { return usage() };
    let world = MpiWorld::init().unwrap_or_else(|err| panic!("{err}"));
    let world = Rc::new(if scenario == FAULT_STALL {
        world.with_collective_timeout(STALL_TIMEOUT)
    } else {
        world
    });
    if let Err(err) = world.expect_world_size(ranks) {
        eprintln!("{err}");
        world.abort(2);
    }
    strata_tensor::set_num_threads(1); // Every rank shares the two cores.
    let checkpoint = args.get(2).map(PathBuf::from);
    match (scenario, checkpoint) {
        (EQUIVALENCE, _) => equivalence(&world),
        (FAULT_PANIC, Some(path)) => fault(&world, path, Fault::Panic),
        (FAULT_DATA, Some(path)) => fault(&world, path, Fault::Data),
        (FAULT_KILLED, Some(path)) => fault(&world, path, Fault::Killed),
        (FAULT_STALL, Some(path)) => fault(&world, path, Fault::Stall),
        _ => return usage(),
    }
    ExitCode::SUCCESS
}

fn usage() -> ExitCode {
    eprintln!(
        "usage: mpi_ranks {FLAG} <{EQUIVALENCE}|{FAULT_PANIC}|{FAULT_DATA}|{FAULT_KILLED}|\
         {FAULT_STALL}> RANKS [CHECKPOINT]"
    );
    ExitCode::FAILURE
}

/// The runs of the equivalence checks: model, bucket size, overlap.
const EQUIVALENCE_RUNS: [(Arch, usize, bool); 5] = [
    (Arch::Mlp, SMALL_BUCKET_BYTES, true),
    (Arch::Mlp, DEFAULT_BUCKET_BYTES, true),
    (Arch::BatchNorm, SMALL_BUCKET_BYTES, true),
    (Arch::SideBranch, SMALL_BUCKET_BYTES, true),
    (Arch::SideBranch, SMALL_BUCKET_BYTES, false),
];
/// Comparisons each rank reports as passed (`…: ok` lines): one per run.
pub const EQUIVALENCE_CHECKS: usize = EQUIVALENCE_RUNS.len();

/// Every replica ends bitwise equal to rank 0's and within [`TOLERANCE`] of one process
/// trained on the joined batches, with every world size; overlapping the exchange with
/// backward changes no bit. The side-branch model has parameters without gradient in every
/// other step, and its small buckets end on a shorter one. On 2 ranks, small and default
/// buckets also give the same bits (a sum of two is the same in any order; with more ranks
/// MPI may add in another order for another message size).
fn equivalence(world: &Rc<MpiWorld>) {
    let (rank, ranks) = (world.rank(), world.world_size());
    println!("rank {rank}/{ranks} on host {}", world.processor_name());
    let mut results: Vec<State> = Vec::new();
    for (arch, bucket_bytes, overlap) in EQUIVALENCE_RUNS {
        let replica = train_replica(arch, Rc::clone(world), bucket_bytes, overlap);
        assert_same_on_every_rank(world, &replica);
        let normalisation = match arch {
            Arch::Mlp | Arch::SideBranch => Normalisation::WholeBatch,
            Arch::BatchNorm => Normalisation::PerRankPart,
        };
        let diff = max_abs_diff(&replica, &train_reference(arch, ranks, normalisation));
        assert!(
            diff < TOLERANCE,
            "rank {rank}: {arch:?}: max |Δ| = {diff:e}"
        );
        let mut note = String::new();
        if arch == Arch::BatchNorm {
            let whole = train_reference(arch, ranks, Normalisation::WholeBatch);
            let gap = max_abs_diff(&replica, &whole);
            assert!(
                gap > LOCAL_VS_GLOBAL_MIN_GAP,
                "rank {rank}: BN statistics not local: {gap:e}"
            );
            note = format!(" (to whole-batch statistics: {gap:e})");
        }
        println!(
            "rank {rank}: {arch:?}, buckets of {bucket_bytes} B, overlap {overlap}: max |Δ| to \
             one process = {diff:e}{note}: ok"
        );
        results.push(replica);
    }
    assert_eq!(
        max_abs_diff(&results[3], &results[4]),
        0.0,
        "overlap changed the result"
    );
    if ranks == 2 {
        assert_eq!(
            max_abs_diff(&results[0], &results[1]),
            0.0,
            "bucket size changed the result"
        );
    }
}

/// Compares this rank's state with rank 0's, bit for bit.
fn assert_same_on_every_rank(world: &MpiWorld, state: &State) {
    let mine: Vec<f32> = state.iter().flat_map(|(_, t)| t.to_vec()).collect();
    let mut rank_zero = mine.clone();
    world.broadcast(0, &mut rank_zero);
    assert!(
        mine.iter()
            .zip(&rank_zero)
            .all(|(a, b)| a.to_bits() == b.to_bits()),
        "rank {} drifted from rank 0",
        world.rank()
    );
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Fault {
    Panic,
    Data,
    Killed,
    Stall,
}

/// What rank 1 does in the middle of epoch 1 (batch 2) for the faults injected there.
fn misbehave(fault: Fault) {
    match fault {
        Fault::Panic => panic!("{INJECTED_PANIC}"),
        Fault::Killed => {
            let pid = std::process::id().to_string();
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &pid])
                .status();
            unreachable!("rank 1 survived SIGKILL");
        }
        Fault::Stall => loop {
            std::thread::sleep(Duration::from_secs(60));
        },
        Fault::Data => {}
    }
}

/// Trains with a checkpoint after every epoch; rank 1 fails in epoch 1.
fn fault(world: &Rc<MpiWorld>, checkpoint: PathBuf, fault: Fault) {
    let rank = world.rank();
    let loader = loader(rank, world.world_size());
    let mut trainer = Trainer::new(TrainConfig {
        epochs: FAULT_EPOCHS,
        checkpoint_every: Some(1),
        checkpoint_path: Some(checkpoint),
        ..TrainConfig::default()
    })
    .with_hook(DataParallel::new(Rc::clone(world)));
    if fault != Fault::Data && rank == 1 {
        trainer = trainer.with_callback(move |event: &Event<'_>| {
            if let Event::Batch {
                epoch: 1, index: 2, ..
            } = event
            {
                misbehave(fault);
            }
        });
    }
    let data_world = Rc::clone(world);
    let train = move |epoch: usize| {
        let data_world = Rc::clone(&data_world);
        let fails = fault == Fault::Data && rank == 1 && epoch == 1;
        // Batch 1, not 0: by the time rank 1 has joined batch 0's allreduce, rank 0 has
        // finished writing the checkpoint of epoch 0, so the test can expect it.
        batches(&loader, epoch)
            .into_iter()
            .enumerate()
            .map(move |(index, batch)| {
                if fails && index == 1 {
                    let missing = PathBuf::from("/nonexistent/strata-mnist");
                    let err = strata_datasets::mnist(&missing, strata_datasets::Split::Train)
                        .expect_err("the folder does not exist");
                    eprintln!("rank {rank}: cannot load the data of epoch {epoch}: {err}");
                    data_world.abort(DATA_ERROR_EXIT_CODE);
                }
                batch
            })
    };
    let mut model = Arch::Mlp.build(SEED);
    trainer
        .fit(
            &mut model.with_objective(Classification::default()),
            &mut Adam::new(1e-3),
            train,
            (),
        )
        .expect("training runs");
    panic!("rank {rank}: training finished, but rank 1 should have ended the job in epoch 1");
}
