"""A stand-in for the `ray` module (Ray itself is not installed in the test venv): the
few calls the emitted ray_job.py makes (init, remote functions and actors, wait, get),
run on threads of this one process."""
import threading
import time


class _Ref:
    def __init__(self, fn, args):
        self._done = threading.Event()
        self._value = None
        self._error = None

        def run():
            try:
                self._value = fn(*args)
            except BaseException as error:  # noqa: BLE001 - handed to get()
                self._error = error
            self._done.set()

        threading.Thread(target=run, daemon=True).start()


def init(*_args, **_kwargs):
    pass


def get(ref):
    ref._done.wait()
    if ref._error is not None:
        raise ref._error
    return ref._value


def wait(refs, num_returns=1, timeout=None):
    end = None if timeout is None else time.monotonic() + timeout
    while True:
        done = [r for r in refs if r._done.is_set()]
        if len(done) >= num_returns or (end is not None and time.monotonic() >= end):
            return done[:num_returns], [r for r in refs if r not in done[:num_returns]]
        time.sleep(0.02)


class _Method:
    def __init__(self, bound):
        self._bound = bound

    def remote(self, *args):
        return _Ref(self._bound, args)


class _Actor:
    def __init__(self, instance):
        self._instance = instance

    def __getattr__(self, name):
        return _Method(getattr(self._instance, name))


class _Remote:
    def __init__(self, target):
        self._target = target

    def remote(self, *args):
        if isinstance(self._target, type):
            return _Actor(self._target(*args))
        return _Ref(self._target, args)


def remote(*args, **_options):
    if len(args) == 1 and callable(args[0]) and not _options:
        return _Remote(args[0])
    return _Remote
