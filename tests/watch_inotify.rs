//! The inotify descriptor the daemon's poll loop waits on becomes readable when a followed file
//! grows or a matching file appears, and is quiet again after `poll`.

use std::io::Write;
use std::os::fd::BorrowedFd;

use fail2zig::watch::{LogWatcher, WatchOptions};
use rustix::event::{PollFd, PollFlags, Timespec};

fn readable(fd: BorrowedFd<'_>, millis: i64) -> bool {
    let mut fds = [PollFd::from_borrowed_fd(fd, PollFlags::IN)];
    let t = Timespec {
        tv_sec: millis / 1000,
        tv_nsec: (millis % 1000) * 1_000_000,
    };
    rustix::event::poll(&mut fds, Some(&t)).unwrap() == 1
}

#[test]
fn inotify_fd_wakes_the_loop() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("auth.log");
    std::fs::write(&log, "old\n").unwrap();
    let glob = dir.path().join("*.log").to_string_lossy().into_owned();
    let mut w = LogWatcher::new(&[glob], Vec::new(), WatchOptions::default()).unwrap();
    assert_eq!(w.poll().unwrap().len(), 1);
    let fd = w.as_fd().expect("inotify is available on Linux");
    assert!(!readable(fd, 0), "nothing happened yet");

    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    f.write_all(b"new line\n").unwrap();
    assert!(
        readable(w.as_fd().unwrap(), 2000),
        "a write must wake the loop"
    );
    let lines = w.poll().unwrap();
    assert_eq!(
        lines.iter().map(|l| l.text.as_str()).collect::<Vec<_>>(),
        ["new line"]
    );
    assert!(!readable(w.as_fd().unwrap(), 0), "poll drains the events");

    std::fs::write(dir.path().join("later.log"), "appeared\n").unwrap();
    assert!(
        readable(w.as_fd().unwrap(), 2000),
        "a new matching file must wake the loop"
    );
    let lines = w.poll().unwrap();
    assert_eq!(
        lines.iter().map(|l| l.text.as_str()).collect::<Vec<_>>(),
        ["appeared"]
    );
    assert_eq!(w.files().len(), 2);

    let polling = LogWatcher::new(
        &[],
        Vec::new(),
        WatchOptions {
            inotify: false,
            ..WatchOptions::default()
        },
    )
    .unwrap();
    assert!(polling.as_fd().is_none());
    assert!(polling.poll_interval() < w.poll_interval());
}
