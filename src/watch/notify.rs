//! inotify as a wake-up source: watches the directories of followed files (and the fixed
//! directory part of each glob) for writes, creations, moves and deletions. Events only say
//! "look again"; what changed is always found by `stat`, so a lost or overflowed event queue
//! costs nothing but latency.

use std::collections::HashSet;
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use rustix::fs::inotify::{self, CreateFlags, ReadFlags, WatchFlags};

use super::WatchError;

#[derive(Debug)]
pub(super) struct Notifier {
    fd: OwnedFd,
    dirs: HashSet<PathBuf>,
}

fn err(operation: String, e: rustix::io::Errno) -> WatchError {
    WatchError::Inotify {
        operation,
        source: io::Error::from(e),
    }
}

impl Notifier {
    pub fn new() -> Result<Notifier, WatchError> {
        let fd = inotify::init(CreateFlags::CLOEXEC | CreateFlags::NONBLOCK)
            .map_err(|e| err("init".into(), e))?;
        Ok(Notifier {
            fd,
            dirs: HashSet::new(),
        })
    }

    pub fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    pub fn watch_dir_of(&mut self, file: &Path) -> Result<(), WatchError> {
        match file.parent().filter(|d| !d.as_os_str().is_empty()) {
            Some(dir) => self.watch_dir(dir),
            None => self.watch_dir(Path::new(".")),
        }
    }

    pub fn watch_dir(&mut self, dir: &Path) -> Result<(), WatchError> {
        if self.dirs.contains(dir) {
            return Ok(());
        }
        let flags = WatchFlags::MODIFY
            | WatchFlags::CREATE
            | WatchFlags::MOVED_TO
            | WatchFlags::MOVED_FROM
            | WatchFlags::DELETE
            | WatchFlags::ATTRIB
            | WatchFlags::ONLYDIR;
        inotify::add_watch(&self.fd, dir, flags)
            .map_err(|e| err(format!("watch {}", dir.display()), e))?;
        self.dirs.insert(dir.to_path_buf());
        Ok(())
    }

    /// Reads all queued events; true if any says a file appeared, moved or vanished (or the
    /// queue overflowed): the globs should be expanded again.
    pub fn drain(&mut self) -> Result<bool, WatchError> {
        let mut buf = [MaybeUninit::<u8>::uninit(); 4096];
        let mut reader = inotify::Reader::new(&self.fd, &mut buf);
        let mut structural = false;
        loop {
            match reader.next() {
                Ok(ev) => {
                    let f = ev.events();
                    structural |= f.intersects(
                        ReadFlags::CREATE
                            | ReadFlags::MOVED_TO
                            | ReadFlags::MOVED_FROM
                            | ReadFlags::DELETE
                            | ReadFlags::QUEUE_OVERFLOW
                            | ReadFlags::IGNORED,
                    );
                    if f.contains(ReadFlags::IGNORED) {
                        // a watched directory went away; forget it so a rescan can re-add it
                        self.dirs.clear();
                    }
                }
                Err(rustix::io::Errno::AGAIN) => return Ok(structural),
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => return Err(err("read".into(), e)),
            }
        }
    }
}
