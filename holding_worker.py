"""gunicorn's threaded worker, able to hold a request without a thread (`worker_class` in gunicorn.conf.py).

A long poll (`GET /events/<id>/changes?wait=25`) on the plain gthread worker keeps one of the
worker's threads asleep for up to 25 s: a few dozen open seat maps, or as many anonymous requests,
take every thread, and nobody else is served. Here the app may instead *hold* the request (the
contract is ticketing/holding.py): its answer is dropped, the connection stays open with no thread
on it, and when the app's callback fires (the feed watcher saw a change, or the wait ran out) the
same request is run through the app again on a free thread, which answers it. A thousand open
feeds then cost a thousand sockets and a little memory, and every thread stays free for the rest.

The rest is gunicorn's gthread worker unchanged. Only the standard library and gunicorn are
imported: the master loads this module (the app is loaded by each worker after the fork).
"""

from __future__ import annotations

import resource
import threading

from gunicorn.workers.gthread import ThreadWorker

HOLD = "ticketing.hold"  # the environ keys of ticketing/holding.py
HELD = "ticketing.held"


class _Held(BaseException):  # a BaseException: gunicorn's `except Exception` must not catch it
    """Raised through gunicorn's request handling when the app held the request: nothing is written."""


_HELD = object()  # what handle() returns for a held request


class _Replay:
    """The connection's parser, giving back the held request first instead of reading a new one."""

    def __init__(self, parser, request) -> None:
        self.parser, self._request = parser, request

    def __next__(self):
        request, self._request = self._request, None
        return request if request is not None else next(self.parser)

    def __getattr__(self, name: str):
        return getattr(self.parser, name)


class _Offer:
    """One run of one request through the app: what the app may hold, and whether it did."""

    def __init__(self, worker: HoldingThreadWorker, conn, request) -> None:
        self.worker, self.conn, self.request = worker, conn, request
        self.state: dict | None = None

    def hold(self, state: dict, subscribe) -> bool:
        """The environ's `hold`: True when the request is held (see ticketing/holding.py)."""
        if not self.worker.alive:  # stopping: the app answers now rather than after the grace time
            return False
        conn = self.conn
        conn.hold_token = getattr(conn, "hold_token", 0) + 1
        conn.wake_early = False
        token = conn.hold_token
        worker = self.worker
        subscribe(lambda: worker.method_queue.defer(worker.resume, conn, token))
        self.state = state
        return True


class HoldingThreadWorker(ThreadWorker):
    """gthread, plus requests held without a thread (see the module's docstring)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.held_conns: set = set()
        self._running = threading.local()

    def init_process(self) -> None:
        # Every held request is an open socket: allow this worker its connections and then some
        # (a service manager's default soft limit is often 1,024 file descriptors).
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        wanted = self.cfg.worker_connections + 256
        if soft != resource.RLIM_INFINITY and soft < wanted:
            allowed = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
            resource.setrlimit(resource.RLIMIT_NOFILE, (allowed, hard))
        super().init_process()

    def load_wsgi(self) -> None:
        super().load_wsgi()
        app = self.wsgi

        def app_that_may_hold(environ, start_response):
            offer = getattr(self._running, "offer", None)
            if offer is None:  # not a request of handle_request (HTTP/2 streams): served as gthread does
                return app(environ, start_response)
            environ[HOLD] = offer.hold
            state = getattr(offer.conn, "held_state", None)
            if state is not None:
                environ[HELD] = state
                offer.conn.held_state = None
            answer = app(environ, start_response)
            if offer.state is not None:
                if hasattr(answer, "close"):
                    answer.close()
                offer.conn.held_state = offer.state
                offer.conn.held_request = offer.request
                raise _Held()
            return answer

        self.wsgi = app_that_may_hold

    def handle(self, conn):
        """Run in a pool thread: a new request, or one held before and woken now."""
        held = getattr(conn, "held_request", None)
        if held is not None:
            conn.held_request = None
            conn.parser = _Replay(conn.parser, held)
        try:
            return super().handle(conn)
        except _Held:
            return _HELD
        finally:
            if isinstance(conn.parser, _Replay):
                conn.parser = conn.parser.parser

    def handle_request(self, req, conn):
        self._running.offer = _Offer(self, conn, req)
        try:
            return super().handle_request(req, conn)
        finally:
            self._running.offer = None

    def finish_request(self, conn, fs):
        """On the main thread: a held request keeps its connection, with no thread, until resumed."""
        if not fs.cancelled() and fs.exception() is None and fs.result() is _HELD:
            if conn.wake_early:  # woken while the app was still holding it
                self.enqueue_req(conn)
            else:
                self.held_conns.add(conn)
            return
        super().finish_request(conn, fs)

    def resume(self, conn, token: int) -> None:
        """On the main thread: the app's callback fired; run the held request again."""
        if getattr(conn, "hold_token", None) != token:
            return  # a hold that was already answered (the worker is stopping)
        if conn in self.held_conns:
            self.held_conns.discard(conn)
            self.enqueue_req(conn)
        else:
            conn.wake_early = True

    def murder_keepalived(self, force: bool = False) -> None:
        # Called by the main loop about every second, running or stopping: a stopping worker answers
        # its held requests now instead of letting them run into the graceful timeout.
        if not self.alive and self.held_conns:
            for conn in self.held_conns:
                conn.hold_token += 1  # the app's callback, when it fires, finds nothing to resume
                self.enqueue_req(conn)
            self.held_conns.clear()
        super().murder_keepalived(force)
