//! rsync-tool's own engine ([`Engine::Native`](crate::Engine)): the parallel
//! signature pipelines ([`crate::signature`](mod@crate::signature)) and the
//! block search ([`crate::delta`](mod@crate::delta)).

use std::fs::File;
use std::io::{Read, Seek, Write};

use super::{Backend, Searcher};
use crate::delta::{self, BlockIndex};
use crate::error::{Error, Result, Role};
use crate::format::params::{SIG_HEADER_LEN, SignatureParams};
use crate::format::{self, NewHasher, SignatureInput};
use crate::io::{Counted, Hashing};
use crate::options::{DeltaOptions, SignatureOptions};
use crate::signature::positional::Source;
use crate::stats::{MatchStats, Op, Stats};

/// The native engine.
pub(super) struct Native;

impl Backend for Native {
    fn signature(
        &self,
        params: &SignatureParams,
        basis: &mut dyn Read,
        out: &mut dyn Write,
        options: &SignatureOptions,
    ) -> Result<Stats> {
        // (0 jobs: one per core, asked only once the input needs threads)
        crate::signature::signature(params, basis, out, options.jobs)
    }

    fn signature_file(
        &self,
        params: &SignatureParams,
        basis: &File,
        out: &mut dyn Write,
        options: &SignatureOptions,
    ) -> Result<Stats> {
        let meta = basis
            .metadata()
            .map_err(|e| Error::io(Role::Basis, "cannot read its size", e))?;
        // Not by position: a pipe or device, or a file that reports no size
        // (/proc, debugfs: their content is there only when read).
        if !meta.is_file() || meta.len() == 0 {
            return super::signature_in_order(self, params, basis, out, options);
        }
        let mut file = basis;
        let start = file
            .stream_position()
            .map_err(|e| Error::io(Role::Basis, "cannot find the read position", e))?;
        let src = Source {
            file: basis,
            start,
            len: meta.len().saturating_sub(start),
            progress: options.progress.as_deref(),
            cancel: options.cancel.as_ref(),
        };
        crate::signature::signature_file(params, &src, out, options.jobs)
    }

    fn load(
        &self,
        params: SignatureParams,
        input: &mut SignatureInput<&mut dyn Read>,
        _options: &DeltaOptions,
    ) -> Result<(Box<dyn Searcher>, Stats)> {
        let entries = format::read_entries(input)?;
        let mut stats = Stats::new(Op::LoadSig);
        stats.in_bytes = SIG_HEADER_LEN as u64 + input.body_len();
        Ok((Box::new(BlockIndex::new(params, entries)?), stats))
    }
}

impl Searcher for BlockIndex {
    fn delta(
        &mut self,
        new: &mut dyn Read,
        mut out: &mut dyn Write,
        options: &DeltaOptions,
    ) -> Result<(Stats, MatchStats)> {
        delta::delta_stream(self, new, &mut out, options)
    }

    fn delta_file(
        &mut self,
        new: &File,
        mut out: &mut dyn Write,
        options: &DeltaOptions,
        hasher: Option<&mut NewHasher>,
    ) -> Result<(Stats, MatchStats)> {
        let size = new
            .metadata()
            .map_err(|e| Error::io(Role::New, "cannot read its size", e))?
            .len();
        if size == 0 {
            // A file that reports no size (/proc): read in order, to its end.
            let counted = Counted {
                reader: new,
                counter: options.progress.as_deref(),
                cancel: options.cancel.as_ref(),
            };
            let mut reader = Hashing {
                reader: counted,
                hasher,
            };
            return self.delta(&mut reader, out, options);
        }
        let mut file = new;
        let start = file
            .stream_position()
            .map_err(|e| Error::io(Role::New, "cannot find the read position", e))?;
        let len = size.saturating_sub(start);
        delta::delta_file(self, new, start, len, &mut out, options, hasher)
    }
}
