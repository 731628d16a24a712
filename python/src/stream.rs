//! Streaming: the engine on its own thread between two bounded channels.
//!
//! Input comes either pushed (`update(data)`, `finish()`) or pulled from a
//! Python file object by the engine thread; output is taken with `read(n)`
//! or returned by `update`/`finish`. Both channels hold a few chunks, so
//! memory stays bounded whatever the size of the data.

use std::fs::File;
use std::io::{self, BufReader, Cursor, Read, Write};
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use rsync_tool_core::{DeltaOptions, Error, PatchOptions, SignatureOptions};

use crate::data::{borrow, patch_options, signature_options};
use crate::errors::{self, Slot};
use crate::pyio::{PY_IO_BUFFER, PyReader};
use crate::run::POLL;
use crate::sig::{self, PySignature, Shared, is_path, is_reader};

/// Size of the chunks passed between the caller and the engine.
const CHUNK: usize = 256 * 1024;
/// How long `update` waits for output before it offers its input again.
const FULL_INPUT_WAIT: Duration = Duration::from_millis(1);
/// Chunks each channel holds.
const DEPTH: usize = 4;

/// Pushed input, read by the engine.
struct ChannelReader {
    rx: Receiver<Vec<u8>>,
    chunk: Vec<u8>,
    pos: usize,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.chunk.len() {
            match self.rx.recv() {
                Ok(chunk) => {
                    self.chunk = chunk;
                    self.pos = 0;
                }
                // finish(): the input ends.
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len() - self.pos);
        buf[..n].copy_from_slice(&self.chunk[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// The engine's output, sent in chunks.
struct ChannelWriter {
    tx: SyncSender<Vec<u8>>,
    buf: Vec<u8>,
}

impl ChannelWriter {
    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
        self.tx
            .send(chunk)
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the stream was closed"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = data.len().min(CHUNK - self.buf.len());
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() == CHUNK {
            self.send()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

/// Where the engine reads its input.
enum Source {
    Pushed(Receiver<Vec<u8>>),
    Object(Py<PyAny>),
}

/// The basis of a patch stream.
enum Basis {
    File(File),
    Bytes(Vec<u8>),
    Object(Py<PyAny>),
}

/// What a stream makes.
enum Work {
    Signature(SignatureOptions),
    Delta(Shared, DeltaOptions),
    Patch(Basis, PatchOptions),
}

fn run_engine(work: Work, source: Source, out: ChannelWriter, slot: &Slot) -> Result<(), Error> {
    let mut out = out;
    let mut pushed;
    let object;
    let mut buffered;
    let input: &mut dyn Read = match source {
        Source::Pushed(rx) => {
            pushed = ChannelReader {
                rx,
                chunk: Vec::new(),
                pos: 0,
            };
            &mut pushed
        }
        Source::Object(obj) => {
            object = obj;
            buffered = BufReader::with_capacity(PY_IO_BUFFER, PyReader::new(&object, slot));
            &mut buffered
        }
    };
    match work {
        Work::Signature(options) => rsync_tool_core::signature(input, &mut out, &options).map(drop),
        Work::Delta(shared, options) => {
            sig::with(&shared, |s| s.delta(input, &mut out, &options)).map(drop)
        }
        Work::Patch(basis, options) => match basis {
            Basis::File(file) => rsync_tool_core::patch(&file, input, &mut out, &options),
            Basis::Bytes(bytes) => {
                rsync_tool_core::patch(Cursor::new(bytes), input, &mut out, &options)
            }
            Basis::Object(obj) => {
                let reader = BufReader::with_capacity(CHUNK, PyReader::new(&obj, slot));
                rsync_tool_core::patch(reader, input, &mut out, &options)
            }
        }
        .map(drop),
    }
}

/// The caller's side of a running stream.
struct State {
    input: Option<SyncSender<Vec<u8>>>,
    output: Option<Receiver<Vec<u8>>>,
    pending: Vec<u8>,
    pos: usize,
    engine: Option<JoinHandle<Result<(), Error>>>,
    slot: Arc<Slot>,
}

/// A signature, delta or patch made as its input is pushed or read.
#[pyclass(module = "rsync_tool._native", name = "Stream", frozen)]
pub struct Stream {
    state: Mutex<State>,
}

impl Stream {
    fn start(work: Work, source: Option<Py<PyAny>>) -> PyResult<Stream> {
        let (out_tx, out_rx) = mpsc::sync_channel(DEPTH);
        let (input, source) = match source {
            Some(obj) => (None, Source::Object(obj)),
            None => {
                let (tx, rx) = mpsc::sync_channel(DEPTH);
                (Some(tx), Source::Pushed(rx))
            }
        };
        let slot = Arc::new(Slot::default());
        let engine_slot = slot.clone();
        let engine = std::thread::Builder::new()
            .name("rsync-tool-stream".to_string())
            .spawn(move || {
                let out = ChannelWriter {
                    tx: out_tx,
                    buf: Vec::with_capacity(CHUNK),
                };
                run_engine(work, source, out, &engine_slot)
            })
            .map_err(|e| PyRuntimeError::new_err(format!("cannot start a thread: {e}")))?;
        Ok(Stream {
            state: Mutex::new(State {
                input,
                output: Some(out_rx),
                pending: Vec::new(),
                pos: 0,
                engine: Some(engine),
                slot,
            }),
        })
    }

    fn state(&self) -> PyResult<std::sync::MutexGuard<'_, State>> {
        self.state
            .try_lock()
            .map_err(|_| PyRuntimeError::new_err("a stream can be used by one thread at a time"))
    }
}

impl State {
    /// The engine has ended: its result, as an exception if it failed.
    fn join(&mut self, py: Python<'_>) -> PyResult<()> {
        self.input = None;
        self.output = None;
        let Some(engine) = self.engine.take() else {
            return Ok(());
        };
        match py.detach(|| engine.join()) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(err)) => Err(self.slot.failure(py, &err, None)),
            Err(_) => Err(PyRuntimeError::new_err(
                "rsync_tool: internal error (the stream's thread panicked)",
            )),
        }
    }

    /// The next output chunk, waiting at most `wait` with the GIL released
    /// (`Ok(None)`: nothing yet); at the end, joins the engine.
    fn next_chunk(&mut self, py: Python<'_>, wait: Option<Duration>) -> PyResult<Option<Vec<u8>>> {
        let Some(rx) = &mut self.output else {
            return Ok(None);
        };
        let got = if let Some(timeout) = wait {
            // A Receiver is Send but not Sync: lend it to the closure by `&mut`.
            let rx = &mut *rx;
            py.detach(move || rx.recv_timeout(timeout))
        } else {
            rx.try_recv().map_err(|e| match e {
                mpsc::TryRecvError::Empty => RecvTimeoutError::Timeout,
                mpsc::TryRecvError::Disconnected => RecvTimeoutError::Disconnected,
            })
        };
        match got {
            Ok(chunk) => {
                // Ctrl-C also while the output flows without a pause.
                py.check_signals()?;
                Ok(Some(chunk))
            }
            Err(RecvTimeoutError::Timeout) => {
                py.check_signals()?;
                Ok(None)
            }
            Err(RecvTimeoutError::Disconnected) => {
                self.join(py)?;
                Ok(None)
            }
        }
    }

    fn ended(&self) -> bool {
        self.output.is_none()
    }

    /// Everything the engine has made so far, without waiting.
    fn drain(&mut self, py: Python<'_>, into: &mut Vec<u8>) -> PyResult<()> {
        into.extend_from_slice(&self.pending[self.pos..]);
        self.pending.clear();
        self.pos = 0;
        while let Some(chunk) = self.next_chunk(py, None)? {
            into.extend_from_slice(&chunk);
        }
        Ok(())
    }
}

#[pymethods]
impl Stream {
    /// Pushes more input; returns the output made so far.
    fn update(&self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<Py<PyBytes>> {
        let mut state = self.state()?;
        let data = borrow(py, data)?;
        let mut made = Vec::new();
        for piece in data.as_slice().chunks(CHUNK) {
            let mut chunk = piece.to_vec();
            loop {
                let Some(tx) = &state.input else {
                    if state.engine.is_none() && state.output.is_none() {
                        // The engine ended before all input (a patch after END):
                        // the rest is ignored, as rdiff ignores it.
                        break;
                    }
                    return Err(PyValueError::new_err(
                        "update() after finish(), or on a reading stream",
                    ));
                };
                match tx.try_send(chunk) {
                    Ok(()) => break,
                    Err(TrySendError::Full(back)) => {
                        chunk = back;
                        // The engine is busy, or waiting for its output to be taken.
                        if let Some(out) = state.next_chunk(py, Some(FULL_INPUT_WAIT))? {
                            made.extend_from_slice(&out);
                        }
                    }
                    Err(TrySendError::Disconnected(_)) => {
                        state.input = None;
                        state.drain(py, &mut made)?;
                        // Waits for the engine's end; raises its error.
                        while !state.ended() {
                            if let Some(out) = state.next_chunk(py, Some(POLL))? {
                                made.extend_from_slice(&out);
                            }
                        }
                        break;
                    }
                }
            }
        }
        state.drain(py, &mut made)?;
        Ok(PyBytes::new(py, &made).unbind())
    }

    /// Ends the input; returns the rest of the output. Raises the engine's
    /// error, if any.
    fn finish(&self, py: Python<'_>) -> PyResult<Py<PyBytes>> {
        let mut state = self.state()?;
        state.input = None;
        let mut made = Vec::new();
        state.drain(py, &mut made)?;
        while !state.ended() {
            if let Some(out) = state.next_chunk(py, Some(POLL))? {
                made.extend_from_slice(&out);
            }
        }
        state.join(py)?;
        Ok(PyBytes::new(py, &made).unbind())
    }

    /// Reads up to `size` bytes of output (all the rest for a negative
    /// size); b"" at the end.
    #[pyo3(signature = (size=-1))]
    fn read(&self, py: Python<'_>, size: isize) -> PyResult<Py<PyBytes>> {
        let mut state = self.state()?;
        if size < 0 {
            let mut made = Vec::new();
            state.drain(py, &mut made)?;
            while !state.ended() {
                if let Some(out) = state.next_chunk(py, Some(POLL))? {
                    made.extend_from_slice(&out);
                }
            }
            return Ok(PyBytes::new(py, &made).unbind());
        }
        while state.pos == state.pending.len() && !state.ended() {
            if let Some(chunk) = state.next_chunk(py, Some(POLL))? {
                state.pending = chunk;
                state.pos = 0;
            }
        }
        let start = state.pos;
        let end = state.pending.len().min(start + size.unsigned_abs());
        state.pos = end;
        Ok(PyBytes::new(py, &state.pending[start..end]).unbind())
    }

    /// Stops the engine and drops what it made.
    fn close(&self) -> PyResult<()> {
        let mut state = self.state()?;
        state.input = None;
        state.output = None;
        // The engine fails at its next write and ends on its own.
        state.engine = None;
        Ok(())
    }
}

/// A stream making the signature of its input.
#[pyfunction]
#[pyo3(signature = (source=None, *, block_size=0, strong_len=0, hash="blake2",
                    rollsum="rabinkarp", jobs=0, size=None))]
#[allow(clippy::too_many_arguments)]
pub fn signature_stream(
    py: Python<'_>,
    source: Option<Py<PyAny>>,
    block_size: i64,
    strong_len: i64,
    hash: &str,
    rollsum: &str,
    jobs: usize,
    size: Option<u64>,
) -> PyResult<Stream> {
    let options = signature_options(py, block_size, strong_len, hash, rollsum, jobs, size)?;
    Stream::start(Work::Signature(options), source)
}

/// A stream making the delta of its input against `signature` (a loaded
/// Signature, or anything `Signature.load` takes), with the verification
/// trailer if `trailer`.
#[pyfunction]
#[pyo3(signature = (signature, source=None, *, trailer=true))]
pub fn delta_stream(
    py: Python<'_>,
    signature: &Bound<'_, PyAny>,
    source: Option<Py<PyAny>>,
    trailer: bool,
) -> PyResult<Stream> {
    let shared = match signature.cast::<PySignature>() {
        Ok(loaded) => loaded.get().shared.clone(),
        Err(_) => sig::load(py, signature)?.shared,
    };
    Stream::start(Work::Delta(shared, sig::delta_options(trailer)), source)
}

/// A stream patching `basis` (a path, a seekable binary file object or
/// bytes) with the delta it is given, checked at the end against the
/// delta's trailer if `verify`.
#[pyfunction]
#[pyo3(signature = (basis, source=None, *, verify=true))]
pub fn patch_stream(
    py: Python<'_>,
    basis: &Bound<'_, PyAny>,
    source: Option<Py<PyAny>>,
    verify: bool,
) -> PyResult<Stream> {
    let basis = if is_path(basis)? {
        let path: PathBuf = basis.extract()?;
        let file = File::open(&path)
            .map_err(|e| errors::io_error(py, "cannot open", &path.display().to_string(), &e))?;
        Basis::File(file)
    } else if is_reader(basis)? {
        Basis::Object(basis.clone().unbind())
    } else {
        Basis::Bytes(borrow(py, basis)?.as_slice().to_vec())
    };
    Stream::start(Work::Patch(basis, patch_options(verify)), source)
}
