//! Worker threads: how many a pipeline uses, and starting one where the
//! system may refuse (`ulimit -u`, a container's PID limit): a refused thread
//! is not an error, the work goes on with the threads already running, down
//! to the calling thread alone. Outputs never depend on the thread count.

use std::thread::{Builder, Scope, ScopedJoinHandle};

/// Most worker threads a pipeline starts, whatever `jobs` asks: threads
/// beyond the cores only hold buffers (with `-j 65535` the delta of a 4 GiB
/// file started 2,047 threads holding 2 MiB chunks: 4.3 GB).
pub(crate) const MAX_WORKERS: usize = 256;

/// Workers for `jobs` (0: one per core) and `units` pieces of work: never
/// more than the pieces, nor [`MAX_WORKERS`], at least 1.
pub(crate) fn workers(jobs: usize, units: usize) -> usize {
    crate::options::threads(jobs)
        .min(units)
        .clamp(1, MAX_WORKERS)
}

/// Starts `f` on a scoped thread; `None` when the system refuses a thread.
pub(crate) fn spawn<'scope, F, T>(
    scope: &'scope Scope<'scope, '_>,
    f: F,
) -> Option<ScopedJoinHandle<'scope, T>>
where
    F: FnOnce() -> T + Send + 'scope,
    T: Send + 'scope,
{
    #[cfg(test)]
    if !hook::take_one() {
        return None;
    }
    Builder::new().spawn_scoped(scope, f).ok()
}

/// A test hook: refuses threads after a number started by the calling
/// thread, and counts those started, to simulate `ulimit -u`.
#[cfg(test)]
pub(crate) mod hook {
    use std::cell::Cell;

    thread_local! {
        static LEFT: Cell<Option<usize>> = const { Cell::new(None) };
        static STARTED: Cell<usize> = const { Cell::new(0) };
    }

    /// From now on, this thread may start `n` more workers (`None`: any).
    pub(crate) fn allow(n: Option<usize>) {
        LEFT.set(n);
        STARTED.set(0);
    }

    /// Workers started by this thread since [`allow`].
    pub(crate) fn started() -> usize {
        STARTED.get()
    }

    pub(super) fn take_one() -> bool {
        match LEFT.get() {
            Some(0) => false,
            left => {
                LEFT.set(left.map(|n| n - 1));
                STARTED.set(STARTED.get() + 1);
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{MAX_WORKERS, hook};
    use crate::format::params::{SignatureParams, StrongHash, WeakSum};
    use crate::testdata::gen_bytes;

    fn sign(data: &[u8], block_len: u32, jobs: usize) -> Vec<u8> {
        let params = SignatureParams {
            weak: WeakSum::RabinKarp,
            strong: StrongHash::Blake2,
            block_len,
            strong_len: 32,
        };
        let mut out = Vec::new();
        crate::signature::signature(&params, data, &mut out, jobs).unwrap();
        out
    }

    /// Signatures (chunked blocks and large ones) are byte-identical when the
    /// system refuses threads, down to none.
    #[test]
    fn refused_threads_give_the_same_signature() {
        let data = gen_bytes(11, 9 << 20);
        for block_len in [2048, (4 << 20) + 1] {
            hook::allow(None);
            let want = sign(&data, block_len, 1);
            for allowed in [0, 1] {
                hook::allow(Some(allowed));
                let got = sign(&data, block_len, 4);
                assert_eq!(hook::started(), allowed, "block {block_len}");
                assert!(got == want, "block {block_len}, {allowed} threads allowed");
            }
        }
        hook::allow(None);
    }

    /// `-j 65535` starts at most one worker per chunk (512 KiB) or large block.
    #[test]
    fn signature_threads_are_capped_by_the_work() {
        let data = gen_bytes(12, 7 << 20);
        for (block_len, units) in [(2048, 14), (5 << 20, 2)] {
            hook::allow(None);
            sign(&data, block_len, 65535);
            let started = hook::started();
            assert!(
                started <= units.min(MAX_WORKERS),
                "{started} threads, block {block_len}"
            );
        }
        hook::allow(None);
    }
}
