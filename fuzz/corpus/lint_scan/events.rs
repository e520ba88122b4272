//! An events registry for `check --events`: the event names a crate may log.
pub const CONNECTION_CLOSED: &str = "connection_closed";

pub mod storage {
    pub const SEGMENT_SEALED: &str = "segment_sealed";
}
