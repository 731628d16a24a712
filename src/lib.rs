//! rsync-tool
