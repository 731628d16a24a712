//! MD4 (RFC 1320), as librsync's `rs_mdfour`: one message at a time
//! ([`Md4`], [`md4`]) or [`LANES`] messages of one length at once
//! ([`md4_lanes`]), both through one set of rounds.

/// An MD4 digest being computed over a message given in pieces.
#[derive(Clone)]
pub(crate) struct Md4 {
    state: [u32; 4],
    tail: [u8; 64],
    tail_len: usize,
    total: u64,
}

impl Md4 {
    pub(crate) fn new() -> Self {
        Md4 {
            state: [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476],
            tail: [0; 64],
            tail_len: 0,
            total: 0,
        }
    }

    pub(crate) fn update(&mut self, mut data: &[u8]) {
        self.total = self.total.wrapping_add(data.len() as u64);
        if self.tail_len > 0 {
            let take = (64 - self.tail_len).min(data.len());
            self.tail[self.tail_len..self.tail_len + take].copy_from_slice(&data[..take]);
            self.tail_len += take;
            data = &data[take..];
            if self.tail_len < 64 {
                return;
            }
            let t = self.tail;
            md4_compress(&mut self.state, &t);
            self.tail_len = 0;
        }
        let mut blocks = data.chunks_exact(64);
        for b in &mut blocks {
            md4_compress(&mut self.state, b.try_into().unwrap());
        }
        let rem = blocks.remainder();
        self.tail[..rem.len()].copy_from_slice(rem);
        self.tail_len = rem.len();
    }

    pub(crate) fn finish(mut self) -> [u8; 16] {
        let bits = self.total.wrapping_mul(8);
        let mut pad = [0u8; 128];
        pad[..self.tail_len].copy_from_slice(&self.tail[..self.tail_len]);
        pad[self.tail_len] = 0x80;
        let end = if self.tail_len < 56 { 64 } else { 128 };
        pad[end - 8..end].copy_from_slice(&bits.to_le_bytes());
        for b in pad[..end].chunks_exact(64) {
            md4_compress(&mut self.state, b.try_into().unwrap());
        }
        let mut out = [0u8; 16];
        for (o, w) in out.chunks_exact_mut(4).zip(self.state) {
            o.copy_from_slice(&w.to_le_bytes());
        }
        out
    }
}

#[inline(always)]
fn md4_compress(st: &mut [u32; 4], block: &[u8; 64]) {
    let mut x = [0u32; 16];
    for (i, w) in x.iter_mut().enumerate() {
        *w = u32::from_le_bytes(block[4 * i..4 * i + 4].try_into().unwrap());
    }
    md4_rounds(st, &x);
}

/// Number of equal-length blocks hashed together by `md4_lanes`.
pub(crate) const LANES: usize = 4;

/// MD4 state of LANES independent messages, one per lane.  The lanes are
/// independent dependency chains, so the CPU overlaps them (about 2.2x the
/// one-message speed here; LLVM does not turn this into SIMD code, and with 8
/// lanes register pressure makes it slower again).
#[derive(Clone, Copy)]
struct Lanes([u32; LANES]);

/// What MD4's rounds need of a word: one message's `u32`, or a lane of
/// several messages' words ([`Lanes`]).
trait Word: Copy {
    fn splat(v: u32) -> Self;
    fn add(self, o: Self) -> Self;
    fn and(self, o: Self) -> Self;
    fn or(self, o: Self) -> Self;
    fn xor(self, o: Self) -> Self;
    /// `!self & o`
    fn andnot(self, o: Self) -> Self;
    fn rotl(self, s: u32) -> Self;
}

impl Word for u32 {
    #[inline(always)]
    fn splat(v: u32) -> Self {
        v
    }
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        self.wrapping_add(o)
    }
    #[inline(always)]
    fn and(self, o: Self) -> Self {
        self & o
    }
    #[inline(always)]
    fn or(self, o: Self) -> Self {
        self | o
    }
    #[inline(always)]
    fn xor(self, o: Self) -> Self {
        self ^ o
    }
    #[inline(always)]
    fn andnot(self, o: Self) -> Self {
        !self & o
    }
    #[inline(always)]
    fn rotl(self, s: u32) -> Self {
        self.rotate_left(s)
    }
}

macro_rules! lanes_op {
    ($name:ident, |$x:ident, $y:ident| $e:expr) => {
        #[inline(always)]
        fn $name(self, o: Self) -> Self {
            let (a, b) = (self.0, o.0);
            let mut r = [0u32; LANES];
            for l in 0..LANES {
                let ($x, $y) = (a[l], b[l]);
                r[l] = $e;
            }
            Lanes(r)
        }
    };
}

impl Word for Lanes {
    #[inline(always)]
    fn splat(v: u32) -> Self {
        Lanes([v; LANES])
    }
    lanes_op!(add, |x, y| x.wrapping_add(y));
    lanes_op!(and, |x, y| x & y);
    lanes_op!(or, |x, y| x | y);
    lanes_op!(xor, |x, y| x ^ y);
    lanes_op!(andnot, |x, y| !x & y);
    #[inline(always)]
    fn rotl(self, s: u32) -> Self {
        let a = self.0;
        let mut r = [0u32; LANES];
        for l in 0..LANES {
            r[l] = a[l].rotate_left(s);
        }
        Lanes(r)
    }
}

/// MD4's three rounds over one 64-byte block, `x`, as words.
#[inline(always)]
fn md4_rounds<W: Word>(st: &mut [W; 4], x: &[W; 16]) {
    let [mut a, mut b, mut c, mut d] = *st;
    let k2 = W::splat(0x5A82_7999);
    let k3 = W::splat(0x6ED9_EBA1);
    macro_rules! r1 {
        ($a:ident, $b:ident, $c:ident, $d:ident, $k:expr, $s:expr) => {
            $a = $a.add($b.and($c).or($b.andnot($d))).add(x[$k]).rotl($s)
        };
    }
    macro_rules! r2 {
        ($a:ident, $b:ident, $c:ident, $d:ident, $k:expr, $s:expr) => {
            // majority(b, c, d) = (b & c) | (d & (b | c))
            $a = $a
                .add($b.and($c).or($d.and($b.or($c))))
                .add(x[$k])
                .add(k2)
                .rotl($s)
        };
    }
    macro_rules! r3 {
        ($a:ident, $b:ident, $c:ident, $d:ident, $k:expr, $s:expr) => {
            $a = $a.add($b.xor($c).xor($d)).add(x[$k]).add(k3).rotl($s)
        };
    }
    r1!(a, b, c, d, 0, 3);
    r1!(d, a, b, c, 1, 7);
    r1!(c, d, a, b, 2, 11);
    r1!(b, c, d, a, 3, 19);
    r1!(a, b, c, d, 4, 3);
    r1!(d, a, b, c, 5, 7);
    r1!(c, d, a, b, 6, 11);
    r1!(b, c, d, a, 7, 19);
    r1!(a, b, c, d, 8, 3);
    r1!(d, a, b, c, 9, 7);
    r1!(c, d, a, b, 10, 11);
    r1!(b, c, d, a, 11, 19);
    r1!(a, b, c, d, 12, 3);
    r1!(d, a, b, c, 13, 7);
    r1!(c, d, a, b, 14, 11);
    r1!(b, c, d, a, 15, 19);

    r2!(a, b, c, d, 0, 3);
    r2!(d, a, b, c, 4, 5);
    r2!(c, d, a, b, 8, 9);
    r2!(b, c, d, a, 12, 13);
    r2!(a, b, c, d, 1, 3);
    r2!(d, a, b, c, 5, 5);
    r2!(c, d, a, b, 9, 9);
    r2!(b, c, d, a, 13, 13);
    r2!(a, b, c, d, 2, 3);
    r2!(d, a, b, c, 6, 5);
    r2!(c, d, a, b, 10, 9);
    r2!(b, c, d, a, 14, 13);
    r2!(a, b, c, d, 3, 3);
    r2!(d, a, b, c, 7, 5);
    r2!(c, d, a, b, 11, 9);
    r2!(b, c, d, a, 15, 13);

    r3!(a, b, c, d, 0, 3);
    r3!(d, a, b, c, 8, 9);
    r3!(c, d, a, b, 4, 11);
    r3!(b, c, d, a, 12, 15);
    r3!(a, b, c, d, 2, 3);
    r3!(d, a, b, c, 10, 9);
    r3!(c, d, a, b, 6, 11);
    r3!(b, c, d, a, 14, 15);
    r3!(a, b, c, d, 1, 3);
    r3!(d, a, b, c, 9, 9);
    r3!(c, d, a, b, 5, 11);
    r3!(b, c, d, a, 13, 15);
    r3!(a, b, c, d, 3, 3);
    r3!(d, a, b, c, 11, 9);
    r3!(c, d, a, b, 7, 11);
    r3!(b, c, d, a, 15, 15);

    st[0] = st[0].add(a);
    st[1] = st[1].add(b);
    st[2] = st[2].add(c);
    st[3] = st[3].add(d);
}

/// MD4 of LANES messages of the same length at once.
pub(crate) fn md4_lanes(msgs: &[&[u8]; LANES]) -> [[u8; 16]; LANES] {
    let len = msgs[0].len();
    debug_assert!(msgs.iter().all(|m| m.len() == len));
    let mut st = [
        Lanes::splat(0x6745_2301),
        Lanes::splat(0xefcd_ab89),
        Lanes::splat(0x98ba_dcfe),
        Lanes::splat(0x1032_5476),
    ];
    let full = len / 64;
    let mut x = [Lanes::splat(0); 16];
    for i in 0..full {
        for (l, m) in msgs.iter().enumerate() {
            let blk: &[u8; 64] = m[i * 64..i * 64 + 64].try_into().unwrap();
            for (k, w) in x.iter_mut().enumerate() {
                w.0[l] = u32::from_le_bytes(blk[4 * k..4 * k + 4].try_into().unwrap());
            }
        }
        md4_rounds(&mut st, &x);
    }
    // Padding: the same shape for every lane (same length).
    let rem = len - full * 64;
    let end = if rem < 56 { 64 } else { 128 };
    let bits = (len as u64).wrapping_mul(8);
    let mut pads = [[0u8; 128]; LANES];
    for (pad, m) in pads.iter_mut().zip(msgs) {
        pad[..rem].copy_from_slice(&m[full * 64..]);
        pad[rem] = 0x80;
        pad[end - 8..end].copy_from_slice(&bits.to_le_bytes());
    }
    for off in (0..end).step_by(64) {
        for (l, pad) in pads.iter().enumerate() {
            for (k, w) in x.iter_mut().enumerate() {
                w.0[l] = u32::from_le_bytes(pad[off + 4 * k..off + 4 * k + 4].try_into().unwrap());
            }
        }
        md4_rounds(&mut st, &x);
    }
    let mut out = [[0u8; 16]; LANES];
    for (l, o) in out.iter_mut().enumerate() {
        for (j, s) in st.iter().enumerate() {
            o[4 * j..4 * j + 4].copy_from_slice(&s.0[l].to_le_bytes());
        }
    }
    out
}

/// The MD4 digest of `data`.
pub(crate) fn md4(data: &[u8]) -> [u8; 16] {
    let mut m = Md4::new();
    m.update(data);
    m.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata::gen_bytes;

    #[test]
    fn md4_known_answers() {
        // RFC 1320 test suite.
        let cases: [(&str, &str); 7] = [
            ("", "31d6cfe0d16ae931b73c59d7e0c089c0"),
            ("a", "bde52cb31de33e46245e05fbdbd6fb24"),
            ("abc", "a448017aaf21d8525fc10ae87aa6729d"),
            ("message digest", "d9130a8164549fe818874806e1c7014b"),
            (
                "abcdefghijklmnopqrstuvwxyz",
                "d79e1c308aa5bbcdeea8ed63df412da9",
            ),
            (
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
                "043f8582f241db351ce627e153e7f0e4",
            ),
            (
                "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
                "e33b4ddc9c38f2199c3e7b164fcc0536",
            ),
        ];
        for (input, hex) in cases {
            let got = md4(input.as_bytes());
            let got: String = got[..16].iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(got, hex, "{input:?}");
        }
        // Lane-parallel == one at a time, for lengths around the padding edges.
        for len in [
            0usize, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000, 16384,
        ] {
            let ds: Vec<Vec<u8>> = (0..LANES as u64).map(|i| gen_bytes(100 + i, len)).collect();
            let msgs: [&[u8]; LANES] = std::array::from_fn(|i| &ds[i][..]);
            let got = md4_lanes(&msgs);
            for (d, g) in ds.iter().zip(&got) {
                assert_eq!(md4(d)[..16], g[..], "len {len}");
            }
        }
        // Incremental == one-shot, across odd splits.
        let d = gen_bytes(3, 1000);
        let whole = md4(&d);
        for step in [1, 7, 63, 64, 65, 200] {
            let mut m = Md4::new();
            for c in d.chunks(step) {
                m.update(c);
            }
            assert_eq!(m.finish(), whole[..16]);
        }
    }
}
