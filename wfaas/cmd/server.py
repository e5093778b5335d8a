"""``wfaas-server``: run the service (API, engine, executor, scheduler) in one process.

    wfaas-server --config-file /etc/wfaas/wfaas.conf [--server all|api,engine,executor,scheduler]

The default ``all`` runs every part over the embedded SQLite database (the
schema is created or migrated and the actions populated on first start by
``Runtime.from_config``). The REST API is served by cheroot, a threaded
production WSGI server, on ``[api] host``/``port`` (127.0.0.1:8989). SIGTERM
or SIGINT stops cleanly: the listener closes, requests in flight finish, the
runtime finishes its current steps and closes the database.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any

from oslo_config import cfg

from wfaas import config
from wfaas.cmd.requestgate import readable
from wfaas.utils import gcfreeze

LOG = logging.getLogger("wfaas.server")
PARTS = ("api", "engine", "executor", "scheduler")

server_cli_opts = [
    cfg.ListOpt("server", default=["all"],
                help="Parts to run in this process: all, or a comma list of "
                     "api, engine, executor, scheduler."),
]


def parse_parts(values: Sequence[str]) -> list[str]:
    """``['all']`` -> every part; unknown names raise ValueError naming them."""
    names = [v.strip().lower() for v in values if v.strip()]
    if not names or "all" in names:
        return list(PARTS)
    unknown = [n for n in names if n not in PARTS]
    if unknown:
        raise ValueError(f"Unknown server part(s): {', '.join(unknown)}; choose from all, "
                         f"{', '.join(PARTS)}")
    return [p for p in PARTS if p in names]


def load_config(argv: Sequence[str] | None) -> cfg.ConfigOpts:
    """Parse ``argv`` (``--config-file``, ``--server``...) into the process's configuration
    (:data:`wfaas.config.CONF`, what every component of this process reads)."""
    return config.load(list(argv if argv is not None else sys.argv[1:]), prog="wfaas-server",
                       cli_opts=server_cli_opts)


def start_runtime(conf: cfg.ConfigOpts, parts: list[str]) -> Any:
    """Build the runtime from configuration and start the requested non-API parts."""
    from wfaas.services.runtime import Runtime

    roles = tuple(p for p in parts if p != "api")
    runtime = Runtime.from_config(conf, roles=roles)
    if "api" in parts or "executor" in parts:
        populate_actions(runtime)
    runtime.start()
    return runtime


def populate_actions(runtime: Any, attempts: int = 2) -> dict[str, int]:
    """Sync the installed system actions into the database (idempotent, cheap when unchanged).

    Several processes of one deployment may start at once against a shared
    database; a process that loses the race retries, then carries on with what
    the winner stored (``wfaas-db-manage populate`` can always redo it).
    """
    from sqlalchemy.exc import SQLAlchemyError

    from wfaas.actions.populate import populate

    for attempt in range(1, attempts + 1):
        try:
            with runtime.session() as session:
                counts: dict[str, int] = populate(session, runtime.provider)
            return counts
        except SQLAlchemyError as exc:  # a concurrent populate must not stop start-up
            level = logging.WARNING if attempt < attempts else logging.ERROR
            LOG.log(level, "Populating actions failed (attempt %s of %s): %s", attempt, attempts,
                    exc)
    return {}


#: pending connections the kernel queues for the API socket (listen backlog)
LISTEN_BACKLOG = 128
#: idle keep-alive connections the API keeps open (more are closed after their response)
KEEPALIVE_CONNECTIONS = 256
#: seconds a worker thread waits for the next request on the keep-alive connection it just
#: answered before handing the connection back to cheroot's selector (see ApiServer.linger)
KEEPALIVE_LINGER = 0.01


class ApiServer:
    """The REST API on a cheroot threaded WSGI server."""

    def __init__(self, app: Any, host: str, port: int, threads: int = 16, *,
                 max_head: int = 64 * 1024, max_body: int = 4096 * 1024,
                 timeout: float = 10.0) -> None:
        from cheroot import wsgi

        from wfaas.cmd.requestgate import RequestGate
        from wfaas.cmd.sockread import LeanConnection

        # cheroot's defaults (a listen backlog of 5, at most 10 idle keep-alive connections)
        # drop the SYNs of a burst of clients: each one then waits for the kernel's 1 s
        # SYN retransmission (seen as 1 s stalls of 10 concurrent POSTing clients).
        self.server = wsgi.Server((host, port), app, numthreads=threads,
                                  server_name="wfaas", shutdown_timeout=10,
                                  request_queue_size=LISTEN_BACKLOG)
        self.server.keep_alive_conn_limit = KEEPALIVE_CONNECTIONS
        # requests read with bytes.find instead of cheroot's pure-Python _pyio reader
        self.server.ConnectionClass = LeanConnection
        self.server.timeout = timeout
        # a worker thread takes a request only once it has arrived (slow clients)
        self.gate = RequestGate(self.server, max_head, max_body)
        self._put_conn = self.server.put_conn
        self.server.put_conn = self.linger  # type: ignore[method-assign]

    def linger(self, conn: Any) -> None:
        """Called by a worker thread after answering on a keep-alive connection: serve
        the connection's next request in this thread if it comes within
        :data:`KEEPALIVE_LINGER` seconds, while another worker is idle and no connection
        waits for one; then hand it back to cheroot as usual.

        cheroot itself registers the connection with its selector thread, which wakes on
        the next request and queues it for a worker: two thread hand-offs per request
        (about 0.1 ms of CPU each on a loaded machine) for a client sending requests
        back to back or polling every few milliseconds."""
        server = self.server
        try:
            while server.ready and server.requests.idle > 1 and not server.requests.qsize:
                if not conn.rfile.has_data():
                    if not readable(conn.socket, KEEPALIVE_LINGER):
                        break
                if not self.gate.ready_now(conn, KEEPALIVE_LINGER):
                    break  # the rest of the request comes slowly: cheroot's selector waits
                if not conn.communicate():
                    conn.close()
                    return
        except Exception:  # noqa: BLE001 - a broken connection: drop it, as cheroot would
            conn.close()
            return
        self._put_conn(conn)

    def prepare(self) -> tuple[str, int]:
        """Bind the socket; returns the address actually bound."""
        self.server.prepare()
        host, port = self.server.bind_addr[:2]
        return str(host), int(port)

    def serve(self) -> None:
        """Serve until :meth:`stop` is called."""
        self.server.serve()

    def stop(self) -> None:
        """Stop accepting, let requests in flight finish (up to the shutdown timeout)."""
        self.server.stop()


def _install_signal_handlers(stop: threading.Event, on_stop: Any,
                             deadline: float = 0.0) -> None:
    def handler(signum: int, _frame: Any) -> None:
        if stop.is_set():
            return
        LOG.info("Received signal %s, stopping", signal.Signals(signum).name)
        stop.set()
        if deadline > 0:
            _arm_exit_deadline(deadline)
        threading.Thread(target=on_stop, name="wfaas-stop", daemon=True).start()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def _arm_exit_deadline(seconds: float) -> None:
    """Exit ``seconds`` after a stop signal even when a step or a request is still
    running (a tenant's expression must not keep the server alive): a thread logs and
    leaves with ``os._exit``; faulthandler, which needs no GIL, dumps every thread's
    stack and exits half a second later if even that thread cannot run."""
    import faulthandler

    def leave() -> None:  # no logging machinery: its locks may be held right now
        os.write(2, f"wfaas-server: not stopped {seconds:g} s after the signal (a step or "
                    f"request is still running): exiting now; unfinished work is "
                    f"recovered at the next start\n".encode())
        os._exit(0)

    timer = threading.Timer(seconds, leave)
    timer.daemon = True
    timer.start()
    faulthandler.dump_traceback_later(seconds + 0.5, exit=True)


def run(conf: cfg.ConfigOpts) -> int:
    """Run the configured parts until a signal stops them; returns the exit code."""
    parts = parse_parts(conf.server)
    runtime = start_runtime(conf, parts)
    stop = threading.Event()
    failure = ""
    if conf.metrics.enabled and conf.metrics.port:
        from wfaas import metrics

        metrics.serve(int(conf.metrics.port), str(conf.metrics.host))
        LOG.info("wfaas-server: metrics on http://%s:%s/metrics", conf.metrics.host,
                 conf.metrics.port)
    try:
        if "api" in parts:
            from wfaas.api.app import setup_app

            api = ApiServer(setup_app(runtime, conf), conf.api.host, conf.api.port,
                            conf.api.threads, max_head=conf.api.max_header_size_kb * 1024,
                            max_body=conf.api.max_body_size_kb * 1024,
                            timeout=conf.api.request_timeout)
            # built: the full collections skip the start's objects (before listening, so
            # that no request waits for this one full collection)
            gcfreeze.freeze_startup()
            try:
                host, port = api.prepare()
            except OSError as exc:      # the port is taken, or the address is not ours
                failure = (f"wfaas-server: cannot listen on {conf.api.host}:{conf.api.port}: "
                           f"{exc.strerror or exc}; choose another port with [api] port in "
                           "the configuration file (--config-file)")
                return 1
            _install_signal_handlers(stop, api.stop, conf.limits.shutdown_timeout)
            LOG.info("wfaas-server %s: API listening on http://%s:%s", ",".join(parts),
                     host, port)
            print(f"wfaas-server: API listening on http://{host}:{port}", flush=True)
            api.serve()
        else:
            _install_signal_handlers(stop, lambda: None, conf.limits.shutdown_timeout)
            gcfreeze.freeze_startup()
            LOG.info("wfaas-server %s: running", ",".join(parts))
            stop.wait()
    finally:
        runtime.close()
        LOG.info("wfaas-server stopped")
        if failure:
            print(failure, file=sys.stderr)     # the last line the user sees
    _exit_without_waiting_for_actions(runtime.executor.in_flight()
                                      if "executor" in parts else 0)
    if "engine" in parts and runtime.engine.running_steps():
        # a step still runs in a daemon thread: leaving through the interpreter's
        # shutdown would wait for it; its execution is recovered at the next start
        LOG.warning("Exiting while an engine step still runs")
        _leave_now()
    if stop.is_set():
        # Stopped by a signal and closed cleanly: leave now. The interpreter's own
        # shutdown was seen to hang for seconds after a clean stop (main thread in C,
        # no Python frame) since the engine has a watchdog thread.
        _leave_now()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``wfaas-server`` console script."""
    from wfaas.cmd.logsetup import setup_logging
    from wfaas.utils import malloc

    malloc.tune()  # before any thread starts

    try:
        conf = load_config(argv)
        parse_parts(conf.server)
        setup_logging(conf)
    except (cfg.Error, ValueError, OSError, KeyError) as exc:
        print(f"wfaas-server: {exc}", file=sys.stderr)
        return 2
    LOG.info("wfaas-server: configuration from %s",
             ", ".join(config.config_files(conf)) or "defaults (no configuration file)")
    conf.log_opt_values(LOG, logging.DEBUG)  # every effective value (secrets masked)
    return run(conf)


def _exit_without_waiting_for_actions(running: int) -> None:
    """Leave at once when executor threads still run actions after a clean stop.

    Python would otherwise join them at exit: a ``std.sleep 600`` kept a stopped
    server alive for ten minutes. Their actions stay RUNNING in the database and are
    handled at the next start like after a crash (run again when ``safe-rerun``,
    failed otherwise; distributed mode: the engines see the heartbeats stop).
    """
    if running <= 0:
        return
    LOG.warning("Exiting while %d action(s) still run; they are recovered at the next "
                "start", running)
    _leave_now()


def _leave_now() -> None:
    """Flush the logs and exit 0 without the interpreter's shutdown."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
