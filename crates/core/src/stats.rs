//! Statistics of a run, printed in rdiff's `-s` format.

use std::fmt::Write as _;
use std::time::Duration;

/// The operation a set of statistics describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Making a signature.
    Signature,
    /// Loading a signature for a delta.
    LoadSig,
    /// Making a delta.
    Delta,
    /// Applying a delta.
    Patch,
}

impl Op {
    /// The name librsync gives the operation.
    pub fn name(self) -> &'static str {
        match self {
            Op::Signature => "signature",
            Op::LoadSig => "loadsig",
            Op::Delta => "delta",
            Op::Patch => "patch",
        }
    }
}

/// Counters of one operation, as librsync's `rs_stats_t` keeps them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stats {
    /// The operation.
    pub op: Op,
    /// LITERAL commands.
    pub lit_cmds: u64,
    /// Bytes carried by LITERAL commands.
    pub lit_bytes: u64,
    /// Bytes of LITERAL command headers.
    pub lit_cmdbytes: u64,
    /// COPY commands.
    pub copy_cmds: u64,
    /// Bytes copied from the basis.
    pub copy_bytes: u64,
    /// Bytes of COPY command headers.
    pub copy_cmdbytes: u64,
    /// Weak-sum matches whose strong sums differed.
    pub false_matches: u64,
    /// Blocks described by the signature.
    pub sig_blocks: u64,
    /// Bytes per signature block.
    pub block_len: u64,
    /// Bytes read.
    pub in_bytes: u64,
    /// Bytes written.
    pub out_bytes: u64,
    /// Wall time of the operation.
    pub elapsed: Duration,
    /// Patch: the result was checked against the delta's verification
    /// trailer (its length and BLAKE3 matched). False for a delta without a
    /// trailer (rdiff's), or with verification off.
    pub verified: bool,
}

impl Stats {
    /// Empty statistics for `op`.
    pub fn new(op: Op) -> Stats {
        Stats {
            op,
            lit_cmds: 0,
            lit_bytes: 0,
            lit_cmdbytes: 0,
            copy_cmds: 0,
            copy_bytes: 0,
            copy_cmdbytes: 0,
            false_matches: 0,
            sig_blocks: 0,
            block_len: 0,
            in_bytes: 0,
            out_bytes: 0,
            elapsed: Duration::ZERO,
            verified: false,
        }
    }

    /// The line rdiff's `-s` prints (librsync's `rs_format_stats`), without
    /// the `librsync: ` prefix. Seconds are whole and at least 1, as there.
    pub fn rdiff_line(&self) -> String {
        let mut s = format!("{} statistics: ", self.op.name());
        if self.lit_cmds > 0 {
            let _ = write!(
                s,
                "literal[{} cmds, {} bytes, {} cmdbytes] ",
                self.lit_cmds, self.lit_bytes, self.lit_cmdbytes
            );
        }
        if self.copy_cmds > 0 || self.false_matches > 0 {
            let _ = write!(
                s,
                "copy[{} cmds, {} bytes, {} cmdbytes, {} false]",
                self.copy_cmds, self.copy_bytes, self.copy_cmdbytes, self.false_matches
            );
        }
        if self.sig_blocks > 0 {
            let _ = write!(
                s,
                "signature[{} blocks, {} bytes per block]",
                self.sig_blocks, self.block_len
            );
        }
        let sec = self.elapsed.as_secs().max(1);
        let mb_in = self.in_bytes as f64 / 1e6;
        let mb_out = self.out_bytes as f64 / 1e6;
        let _ = write!(
            s,
            " speed[{:.1} MB ({:.1} MB/s) in, {:.1} MB ({:.1} MB/s) out, {} sec]",
            mb_in,
            mb_in / sec as f64,
            mb_out,
            mb_out / sec as f64,
            sec
        );
        s
    }
}

/// Counters of the block search of a delta, for rdiff 2.3's
/// `match statistics` line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MatchStats {
    /// Block look-ups tried.
    pub searches: u64,
    /// Look-ups that found a matching block.
    pub matches: u64,
    /// Weak-sum comparisons made.
    pub weak_compares: u64,
    /// Strong-sum comparisons made.
    pub strong_compares: u64,
    /// Strong sums computed.
    pub strong_calcs: u64,
}

impl MatchStats {
    /// rdiff 2.3's `match statistics: signature[...]` line, without the
    /// `librsync: ` prefix.
    pub fn rdiff_line(&self) -> String {
        let per = |n: u64| {
            if self.searches == 0 {
                f64::NAN
            } else {
                n as f64 / self.searches as f64
            }
        };
        format!(
            "match statistics: signature[{} searches, {} ({:.3}%) matches, {} ({:.3}x) weak sum compares, {} ({:.3}%) strong sum compares, {} ({:.3}%) strong sum calcs]",
            self.searches,
            self.matches,
            100.0 * per(self.matches),
            self.weak_compares,
            per(self.weak_compares),
            self.strong_compares,
            100.0 * per(self.strong_compares),
            self.strong_calcs,
            100.0 * per(self.strong_calcs),
        )
    }
}

/// Statistics of a delta: loading the signature, searching it, writing the delta.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeltaStats {
    /// Loading the signature.
    pub loadsig: Stats,
    /// Searching the signature's blocks.
    pub matching: MatchStats,
    /// Writing the delta.
    pub delta: Stats,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines measured with rdiff 2.3.2 on a 300,000-byte file.
    #[test]
    fn lines_match_rdiff() {
        let mut sig = Stats::new(Op::Signature);
        sig.sig_blocks = 586;
        sig.block_len = 512;
        sig.in_bytes = 300_000;
        sig.out_bytes = 21_108;
        assert_eq!(
            sig.rdiff_line(),
            "signature statistics: signature[586 blocks, 512 bytes per block] speed[0.3 MB (0.3 MB/s) in, 0.0 MB (0.0 MB/s) out, 1 sec]"
        );
        let mut delta = Stats::new(Op::Delta);
        delta.copy_cmds = 1;
        delta.copy_bytes = 300_000;
        delta.copy_cmdbytes = 6;
        delta.in_bytes = 300_000;
        delta.out_bytes = 11;
        assert_eq!(
            delta.rdiff_line(),
            "delta statistics: copy[1 cmds, 300000 bytes, 6 cmdbytes, 0 false] speed[0.3 MB (0.3 MB/s) in, 0.0 MB (0.0 MB/s) out, 1 sec]"
        );
        let mut lit = Stats::new(Op::Patch);
        lit.lit_cmds = 2;
        lit.lit_bytes = 10;
        lit.lit_cmdbytes = 2;
        lit.elapsed = Duration::from_millis(2500);
        assert_eq!(
            lit.rdiff_line(),
            "patch statistics: literal[2 cmds, 10 bytes, 2 cmdbytes]  speed[0.0 MB (0.0 MB/s) in, 0.0 MB (0.0 MB/s) out, 2 sec]"
        );
        let m = MatchStats {
            searches: 586,
            matches: 586,
            weak_compares: 912,
            strong_compares: 586,
            strong_calcs: 586,
        };
        assert_eq!(
            m.rdiff_line(),
            "match statistics: signature[586 searches, 586 (100.000%) matches, 912 (1.556x) weak sum compares, 586 (100.000%) strong sum compares, 586 (100.000%) strong sum calcs]"
        );
    }
}
