"""delta-waypoint's Gymnasium worker: N copies of one Gymnasium env with Box spaces, served
over stdin/stdout in binary frames to the TypeScript side (src/env/gym/).

Started as `python -u -c <this file's text>` (or `python -u gym_worker.py`). Frames, both
ways: a 16-byte little-endian header (magic b"DWGB", type u8, version u8, reserved u16,
payload length u32, sequence u32; a reply carries its request's sequence) and a payload
of float64 arrays first, then uint8 arrays. JSON appears in the handshake and in ERROR
frames only. One round trip per vector step, for all N copies at once:

  HELLO  json {id, modules, kwargs, num_envs}   -> READY json (sizes, Box bounds, time limit)
  RESET  f64 seeds[N], u8 mask[N]               -> OBS f64 obs[N*D]
  STEP   f64 actions[N*A], u8 mask[N]           -> STEPPED f64 obs[N*D], f64 rewards[N],
                                                    u8 terminated[N], u8 truncated[N],
                                                    u8 success[N]
  CLOSE  (empty)                                 -> (no reply: the worker closes its envs and exits)

Any failure is answered with ERROR json {message} (one line) and the worker exits. End of
file on stdin is CLOSE. The rows where the mask is 0 are not touched.

Only frames go to the real stdout: fd 1 is moved away at start and Python's stdout (and any
C code writing to fd 1) goes to stderr, so an env that prints cannot corrupt the stream.
"""

import importlib
import json
import math
import os
import signal
import struct
import sys
import threading
import time

MAGIC = b"DWGB"
VERSION = 1
HEADER = struct.Struct("<4sBBHII")  # 16 bytes

HELLO, RESET, STEP, CLOSE = 1, 2, 3, 4
READY, OBS, STEPPED, ERROR = 0x81, 0x82, 0x83, 0xFF

# Frames travel on private copies of fds 0 and 1; the standard fds point elsewhere.
FRAMES_IN = os.fdopen(os.dup(0), "rb", buffering=0)
FRAMES_OUT = os.dup(1)
_devnull = os.open(os.devnull, os.O_RDONLY)
os.dup2(_devnull, 0)
os.close(_devnull)
os.dup2(2, 1)
sys.stdout = sys.stderr

# Ctrl-C in a terminal reaches the whole process group: the parent decides what happens
# (it saves a checkpoint, then closes us), so the worker must not die under it first.
signal.signal(signal.SIGINT, signal.SIG_IGN)


def watch_parent():
    """Exits when the parent is gone, even while an env hangs and stdin is not read."""
    parent = os.getppid()
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(0)


threading.Thread(target=watch_parent, daemon=True).start()


class Refused(Exception):
    """A one-line error for the TypeScript side, sent in an ERROR frame."""


def read_exact(view):
    """Fills `view`; False at end of file."""
    got, n = 0, len(view)
    while got < n:
        k = FRAMES_IN.readinto(view[got:])
        if not k:
            return False
        got += k
    return True


def write_all(view):
    sent, n = 0, len(view)
    while sent < n:
        sent += os.write(FRAMES_OUT, view[sent:])


def send(kind, seq, payload=b""):
    write_all(memoryview(HEADER.pack(MAGIC, kind, VERSION, 0, len(payload), seq) + payload))


def send_error(seq, message):
    line = " ".join(str(message).split())
    send(ERROR, seq, json.dumps({"message": line}).encode())


def one_line(e):
    text = " ".join(str(e).split())
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


def bounds(values):
    """Box bounds as JSON: finite numbers as they are, ±inf and nan as strings."""
    out = []
    for v in values.tolist():
        out.append(v if v == v and abs(v) != float("inf") else str(v))
    return out


class Worker:
    def __init__(self, hello):
        self.id = hello["id"]
        self.n = int(hello["num_envs"])
        self.label = f"gym:{self.id}"
        try:
            import numpy as np
        except Exception as e:
            raise Refused(f"numpy is not importable by {sys.executable} ({one_line(e)})")
        try:
            import gymnasium as gym
        except Exception as e:
            raise Refused(
                f"gymnasium is not importable by {sys.executable} ({one_line(e)}): "
                "install it there (pip install gymnasium) or point --gym-python at a Python that has it"
            )
        self.np = np
        for name in hello.get("modules", []):
            try:
                importlib.import_module(name)
            except BaseException as e:
                raise Refused(f"--gym-module {name}: {one_line(e)}")
        kwargs = hello.get("kwargs", {})
        self.envs = []
        for _ in range(self.n):
            try:
                self.envs.append(gym.make(self.id, **kwargs))
            except BaseException as e:
                raise Refused(f"{self.label}: gymnasium.make failed: {one_line(e)}")
        env = self.envs[0]
        for role, space in (("observation", env.observation_space), ("action", env.action_space)):
            if not isinstance(space, gym.spaces.Box):
                raise Refused(
                    f"{self.label}: the {role} space is {space!r}; only Box observation and "
                    "action spaces are supported"
                )
        obs_space, act_space = env.observation_space, env.action_space
        self.obs_dim = int(np.prod(obs_space.shape, dtype=np.int64))
        self.act_dim = int(np.prod(act_space.shape, dtype=np.int64))
        if self.obs_dim < 1 or self.act_dim < 1:
            raise Refused(
                f"{self.label}: empty space (observation {obs_space.shape}, action {act_space.shape})"
            )
        self.obs_space = obs_space
        self.obs_shape = tuple(obs_space.shape)
        self.act_shape = act_space.shape
        self.act_batch_shape = (self.n,) + tuple(act_space.shape)
        self.act_dtype = act_space.dtype
        self.act_low = np.asarray(act_space.low, dtype=np.float64).reshape(-1)
        self.act_high = np.asarray(act_space.high, dtype=np.float64).reshape(-1)
        spec = env.spec
        self.max_episode_steps = spec.max_episode_steps if spec is not None else None

        n, d, a = self.n, self.obs_dim, self.act_dim
        self.seeds_seen = [0] * n
        self.steps = [0] * n
        # the latest step's outputs per row, as Python values (one numpy write per step)
        self.rewards = [0.0] * n
        self.terminated = [0] * n
        self.truncated = [0] * n
        self.success = [0] * n
        # requests: f64 then u8, read straight into these arrays
        self.reset_in = np.zeros(n * 8 + n, dtype=np.uint8)
        self.step_in = np.zeros(n * a * 8 + n, dtype=np.uint8)
        self.seeds = self.reset_in[: n * 8].view(np.float64)
        self.reset_mask = self.reset_in[n * 8 :]
        self.actions = self.step_in[: n * a * 8].view(np.float64).reshape(n, a)
        self.step_mask = self.step_in[n * a * 8 :]
        # replies: header + payload in one buffer, written with one call
        h = HEADER.size
        self.obs_out = np.zeros(h + n * d * 8, dtype=np.uint8)
        self.obs_out_rows = self.obs_out[h:].view(np.float64).reshape(n, d)
        self.obs_out_shaped = self.obs_out_rows.reshape((n,) + self.obs_shape)
        self.step_out = np.zeros(h + n * d * 8 + n * 8 + 3 * n, dtype=np.uint8)
        f64_end = h + (n * d + n) * 8
        self.step_obs = self.step_out[h : h + n * d * 8].view(np.float64).reshape(n, d)
        self.step_obs_shaped = self.step_obs.reshape((n,) + self.obs_shape)
        self.step_rewards = self.step_out[h + n * d * 8 : f64_end].view(np.float64)
        self.step_terminated = self.step_out[f64_end : f64_end + n]
        self.step_truncated = self.step_out[f64_end + n : f64_end + 2 * n]
        self.step_success = self.step_out[f64_end + 2 * n : f64_end + 3 * n]

    def ready(self):
        np = self.np
        return {
            "protocol": VERSION,
            "python": sys.version.split()[0],
            "gymnasium": __import__("gymnasium").__version__,
            "obs_shape": list(self.obs_space.shape),
            "act_shape": list(self.act_shape),
            "obs_low": bounds(np.asarray(self.obs_space.low, dtype=np.float64).reshape(-1)),
            "obs_high": bounds(np.asarray(self.obs_space.high, dtype=np.float64).reshape(-1)),
            "act_low": bounds(self.act_low),
            "act_high": bounds(self.act_high),
            "max_episode_steps": self.max_episode_steps,
        }

    def where(self, i, when):
        return f"{self.label} row {i} {when} (episode seed {self.seeds_seen[i]})"

    def put_obs(self, shaped, rows, i, obs, step):
        """Writes row i; `step` 0 is the reset."""
        np = self.np
        if type(obs) is np.ndarray and obs.shape == self.obs_shape:
            shaped[i] = obs  # the usual case: no copy but the one into the frame
            return
        o = np.asarray(obs, dtype=np.float64).reshape(-1)
        if o.size != self.obs_dim:
            when = f"step {step}" if step else "reset"
            raise Refused(
                f"{self.where(i, when)}: the observation has {o.size} numbers, expected "
                f"{self.obs_dim} (observation space {self.obs_space!r})"
            )
        rows[i] = o

    def check_finite(self, rows, mask, when, rewards=None):
        np = self.np
        # a sum is finite when every term is (or overflows: then the search below finds nothing)
        total = float(rows.sum()) + (0.0 if rewards is None else float(rewards.sum()))
        if math.isfinite(total):
            return
        for i in range(self.n):
            if not mask[i]:
                continue
            bad = np.flatnonzero(~np.isfinite(rows[i]))
            if bad.size:
                j = int(bad[0])
                raise Refused(
                    f"{self.where(i, when(i))}: the observation has a non-finite value "
                    f"({rows[i][j]} at index {j})"
                )
            if rewards is not None and not np.isfinite(rewards[i]):
                raise Refused(f"{self.where(i, when(i))}: the reward is {rewards[i]}")

    def reset(self):
        rows, shaped, mask = self.obs_out_rows, self.obs_out_shaped, self.reset_mask.tolist()
        for i in range(self.n):
            if not mask[i]:
                continue
            seed = int(self.seeds[i])
            self.seeds_seen[i] = seed
            self.steps[i] = 0
            try:
                obs, _info = self.envs[i].reset(seed=seed)
            except Refused:
                raise
            except BaseException as e:
                raise Refused(f"{self.where(i, 'reset')}: env.reset raised {one_line(e)}")
            self.put_obs(shaped, rows, i, obs, 0)
        self.check_finite(rows, mask, lambda i: "reset")
        return self.obs_out

    def step(self):
        np = self.np
        n, envs, steps = self.n, self.envs, self.steps
        mask = self.step_mask.tolist()
        # the last guard (the trainer clips too), then the Box's dtype; a fresh array each
        # step, as an env may keep the action it was given
        np.maximum(self.actions, self.act_low, out=self.actions)
        np.minimum(self.actions, self.act_high, out=self.actions)
        actions = self.actions.astype(self.act_dtype).reshape(self.act_batch_shape)
        rows, shaped = self.step_obs, self.step_obs_shaped
        rewards, terminated, truncated, success = self.rewards, self.terminated, self.truncated, self.success
        for i in range(n):
            if not mask[i]:
                continue
            steps[i] += 1
            try:
                obs, reward, term, trunc, info = envs[i].step(actions[i])
            except BaseException as e:
                raise Refused(f"{self.where(i, f'step {steps[i]}')}: env.step raised {one_line(e)}")
            self.put_obs(shaped, rows, i, obs, steps[i])
            rewards[i] = reward
            terminated[i] = 1 if term else 0
            truncated[i] = 1 if trunc else 0
            success[i] = 1 if isinstance(info, dict) and info.get("is_success") else 0
        try:
            self.step_rewards[:] = rewards
        except (TypeError, ValueError):
            for i in range(n):
                try:
                    self.step_rewards[i] = float(rewards[i])
                except (TypeError, ValueError) as e:
                    raise Refused(
                        f"{self.where(i, f'step {steps[i]}')}: the reward is not a number ({one_line(e)})"
                    )
        self.step_terminated[:] = terminated
        self.step_truncated[:] = truncated
        self.step_success[:] = success
        self.check_finite(rows, mask, lambda i: f"step {steps[i]}", self.step_rewards)
        return self.step_out

    def close(self):
        for env in self.envs:
            try:
                env.close()
            except BaseException:
                pass


def main():
    header = bytearray(HEADER.size)
    hview = memoryview(header)
    worker = None
    seq = 0
    try:
        while True:
            if not read_exact(hview):
                return
            magic, kind, version, _, length, seq = HEADER.unpack(header)
            if magic != MAGIC or version != VERSION:
                raise Refused(f"protocol mismatch: got magic {magic!r} version {version}")
            if worker is None:
                if kind != HELLO:
                    raise Refused(f"protocol: expected HELLO first, got type {kind}")
                payload = bytearray(length)
                if not read_exact(memoryview(payload)):
                    return
                worker = Worker(json.loads(payload.decode("utf-8")))
                send(READY, seq, json.dumps(worker.ready()).encode())
                continue
            if kind == RESET:
                buf, handler = worker.reset_in, worker.reset
            elif kind == STEP:
                buf, handler = worker.step_in, worker.step
            elif kind == CLOSE:
                return
            else:
                raise Refused(f"protocol: unknown message type {kind}")
            if length != buf.nbytes:
                raise Refused(f"protocol: type {kind} payload of {length} bytes, expected {buf.nbytes}")
            if not read_exact(memoryview(buf)):
                return
            out = handler()
            HEADER.pack_into(out, 0, MAGIC, OBS if kind == RESET else STEPPED, VERSION, 0,
                             out.nbytes - HEADER.size, seq)
            write_all(memoryview(out))
    except Refused as e:
        send_error(seq, e)
    except BrokenPipeError:
        pass
    except BaseException as e:
        import traceback

        traceback.print_exc()
        try:
            send_error(seq, f"the Gymnasium worker failed: {one_line(e)}")
        except BaseException:
            pass
    finally:
        if worker is not None:
            worker.close()


main()
sys.stderr.flush()
os._exit(0)
