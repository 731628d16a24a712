//! Writes the targets' fixed basis and NEW into a directory, for make-seeds.sh.
fn main() {
    let dir = std::env::args().nth(1).expect("usage: write_inputs DIR");
    let dir = std::path::Path::new(&dir);
    std::fs::write(dir.join("basis"), rsync_tool_fuzz::basis()).unwrap();
    std::fs::write(dir.join("new"), rsync_tool_fuzz::new_file()).unwrap();
}
