"""A libtorrent peer for NoBrake's end-to-end tests: seeds or leeches one torrent found only
through its tracker, and says what it is doing on stdout, one line per event.

Usage: lt_peer.py TORRENT SAVE_DIR seed|leech LISTEN TIMEOUT_SECONDS
  LISTEN is one interface and port, `127.0.0.2:6881` or `[::1]:6881`.

Every other way of finding peers (DHT, local service discovery, peer exchange, UPnP, NAT-PMP) is
off, so a download that completes proves the tracker introduced the peers. Lines printed:
  listening ADDR PORT TYPE a listen socket (tcp, or udp for uTP) is open
  announced N peers        a tracker reply arrived, listing N peers
  progress P STATE PEERS   whenever one of the three changes
  finished                 (leech) every piece is verified
  done                     (leech) the `completed` announce was answered; exit 0 follows
  stopped                  leaving: the `stopped` announce was answered (or `stopped
                           unanswered` after 5 s); the exit follows
Exit codes: 0 done (leech) or stopped by SIGTERM/SIGINT (seed); 1 timed out; 2 bad usage or a
libtorrent error. Run with Debian's /usr/bin/python3 and python3-libtorrent 2.0.x.
"""

import signal
import sys
import time

import libtorrent as lt

# How long a leaving peer waits for the answer to its `stopped` announce.
STOP_WAIT_SECONDS = 5

USAGE = "usage: lt_peer.py TORRENT SAVE_DIR seed|leech LISTEN TIMEOUT_SECONDS"


def say(*words):
    # Flushed at once: the test waits on these lines through a pipe.
    print(*words, flush=True)


def leave(session):
    """Pauses, which sends the `stopped` announce, and waits (a few seconds at most) for the
    tracker to answer it, so the tracker has dropped this peer when the process exits. The
    session's own teardown does not wait for a UDP tracker: without this, the `stopped` announce
    to a udp:// tracker was lost (libtorrent 2.0.8)."""
    session.pause()
    deadline = time.monotonic() + STOP_WAIT_SECONDS
    sent = False
    while time.monotonic() < deadline:
        session.wait_for_alert(100)
        for alert in session.pop_alerts():
            if isinstance(alert, lt.tracker_announce_alert) and alert.event == lt.event_t.stopped:
                sent = True
            elif sent and isinstance(alert, (lt.tracker_reply_alert, lt.tracker_error_alert)):
                say("stopped")
                return
    say("stopped", "unanswered")


def main(argv):
    if len(argv) != 6 or argv[3] not in ("seed", "leech"):
        say(USAGE)
        return 2
    torrent_path, save_dir, role, listen = argv[1], argv[2], argv[3], argv[4]
    deadline = time.monotonic() + float(argv[5])

    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    signal.signal(signal.SIGINT, lambda *_: stopping.append(True))

    settings = {
        "listen_interfaces": listen,
        # Announces, peer connections and listening all use this one address, so the tracker
        # sees each test peer under its own loopback address.
        "outgoing_interfaces": listen.rsplit(":", 1)[0].strip("[]"),
        # A port that is taken must fail the run, not move silently to the next port: the tracker
        # would then list the peer under a port the test does not expect.
        "max_retry_port_bind": 0,
        "listen_system_port_fallback": False,
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        # Test peers on [::1] all share one address; without this libtorrent refuses a second
        # connection from an IP it is already connected to.
        "allow_multiple_connections_per_ip": True,
        "user_agent": "nobrake-e2e/libtorrent-" + lt.__version__,
        "alert_mask": lt.alert_category.error
        | lt.alert_category.status
        | lt.alert_category.tracker
        | lt.alert_category.storage,
        # Quick reconnects and a short `stopped` announce keep the test fast.
        "min_reconnect_time": 1,
        "peer_connect_timeout": 3,
        "stop_tracker_timeout": 2,
        "tracker_completion_timeout": 10,
        "tracker_receive_timeout": 5,
    }
    # flags=0: no default plugins, so no ut_pex (peer exchange) and no ut_metadata.
    session = lt.session(settings, 0)

    params = lt.add_torrent_params()
    params.ti = lt.torrent_info(torrent_path)
    params.save_path = save_dir
    handle = session.add_torrent(params)
    say("info_hash", str(params.ti.info_hashes().v1))

    completed_sent = False
    last_progress = None
    while True:
        if stopping:
            leave(session)
            return 0
        if time.monotonic() > deadline:
            say("timeout", "after", argv[5], "seconds")
            return 1
        session.wait_for_alert(200)
        for alert in session.pop_alerts():
            if isinstance(alert, lt.listen_succeeded_alert):
                say("listening", alert.address, alert.port, alert.socket_type)
            elif isinstance(alert, lt.listen_failed_alert):
                say("error", alert.message())
                return 2
            elif isinstance(alert, lt.tracker_announce_alert):
                # The reply that ends a leecher must be the one to `completed` (BEP 3), not to
                # a routine announce that happened to be in flight when the last piece came.
                if alert.event == lt.event_t.completed:
                    completed_sent = True
            elif isinstance(alert, lt.tracker_reply_alert):
                say("announced", alert.num_peers, "peers")
                if role == "leech" and completed_sent:
                    say("done")
                    leave(session)
                    return 0
            elif isinstance(alert, (lt.tracker_error_alert, lt.tracker_warning_alert)):
                say("tracker", alert.message())
            elif isinstance(alert, lt.torrent_finished_alert) and role == "leech":
                say("finished")
            elif isinstance(alert, (lt.torrent_error_alert, lt.file_error_alert)):
                say("error", alert.message())
                return 2
        # Only changes are printed, so a stuck peer's last lines still show what happened.
        status = handle.status()
        progress = ("%.3f" % status.progress, str(status.state), status.num_peers)
        if progress != last_progress:
            last_progress = progress
            say("progress", *progress)


if __name__ == "__main__":
    try:
        code = main(sys.argv)
    except Exception as error:  # an unreadable .torrent, a bad setting: exit 2, not 1 (timeout)
        say("error", repr(error))
        code = 2
    sys.exit(code)
