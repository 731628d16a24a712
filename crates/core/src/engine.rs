//! The engines behind [`Engine`]: one [`Backend`] trait (make a signature,
//! load one into a [`Searcher`] that writes deltas), the native and the
//! librsync implementations side by side, and the one place an [`Engine`]
//! is mapped to its implementation ([`backend`]).

#[cfg(feature = "librsync")]
mod librsync;
mod native;

use std::fs::File;
use std::io::{Read, Write};

use crate::error::Result;
use crate::format::NewHasher;
use crate::format::SignatureInput;
use crate::format::params::SignatureParams;
use crate::io::{Counted, Hashing};
use crate::options::{DeltaOptions, Engine, SignatureOptions};
use crate::stats::{MatchStats, Stats};

/// What an engine does: the signature of a basis, and loading a signature.
pub(crate) trait Backend: Sync {
    /// Writes the signature of `basis` with `params` to `out` (not flushed).
    fn signature(
        &self,
        params: &SignatureParams,
        basis: &mut dyn Read,
        out: &mut dyn Write,
        options: &SignatureOptions,
    ) -> Result<Stats>;

    /// Writes the signature of the rest of the file `basis` with `params`
    /// to `out` (not flushed); by default read sequentially, counted for
    /// progress.
    fn signature_file(
        &self,
        params: &SignatureParams,
        basis: &File,
        out: &mut dyn Write,
        options: &SignatureOptions,
    ) -> Result<Stats> {
        signature_in_order(self, params, basis, out, options)
    }

    /// Loads the block entries of a signature whose header gave `params`;
    /// the statistics' byte count is the engine's, the rest the caller's.
    fn load(
        &self,
        params: SignatureParams,
        input: &mut SignatureInput<&mut dyn Read>,
        options: &DeltaOptions,
    ) -> Result<(Box<dyn Searcher>, Stats)>;
}

/// [`Backend::signature`] of a file read in order, counted for progress.
fn signature_in_order<B: Backend + ?Sized>(
    backend: &B,
    params: &SignatureParams,
    basis: &File,
    out: &mut dyn Write,
    options: &SignatureOptions,
) -> Result<Stats> {
    let mut counted = Counted {
        reader: basis,
        counter: options.progress.as_deref(),
        cancel: options.cancel.as_ref(),
    };
    backend.signature(params, &mut counted, out, options)
}

/// A signature loaded by an engine, searched to write deltas.
pub(crate) trait Searcher: Send {
    /// Writes the delta of `new`, read sequentially, to `out` (not flushed).
    fn delta(
        &mut self,
        new: &mut dyn Read,
        out: &mut dyn Write,
        options: &DeltaOptions,
    ) -> Result<(Stats, MatchStats)>;

    /// Writes the delta of the rest of the file `new` to `out` (not
    /// flushed), and hashes those bytes into `hasher` if given; by default
    /// read sequentially, counted for progress.
    fn delta_file(
        &mut self,
        new: &File,
        out: &mut dyn Write,
        options: &DeltaOptions,
        hasher: Option<&mut NewHasher>,
    ) -> Result<(Stats, MatchStats)> {
        let counted = Counted {
            reader: new,
            counter: options.progress.as_deref(),
            cancel: options.cancel.as_ref(),
        };
        self.delta(
            &mut Hashing {
                reader: counted,
                hasher,
            },
            out,
            options,
        )
    }
}

/// The implementation of `engine`: the one place an engine is chosen.
pub(crate) fn backend(engine: Engine) -> &'static dyn Backend {
    match engine {
        Engine::Native => &native::Native,
        #[cfg(feature = "librsync")]
        Engine::Librsync => &librsync::Librsync,
    }
}
