"""A delta-waypoint policy in PyTorch, built from the files the tool writes.

    final_waypoints = sft_waypoints + clip(delta_head(z), -delta_clip, +delta_clip)

``load_policy(checkpoint, sft_model=None)`` reads a training checkpoint (a run's
``final.pt``, ``best.pt`` or ``checkpoints/checkpoint_N.pt``) and, optionally, the SFT
planner file of ``sft`` (``model.pt``), and returns a :class:`DeltaWaypointPolicy`:

    >>> policy = load_policy("out/run_bc/final.pt", sft_model="out/sft_waypoint_bc/model.pt")
    >>> policy.final_waypoints(z)        # (B, H, 2): planner + clipped mean delta
    >>> policy.delta(z)                  # (B, H, 2): the clipped mean delta alone
    >>> policy.value(z)                  # (B,)

A run on the built-in planner (not an MLP, so there is no file to load) is refined
by passing that planner's output: ``policy.final_waypoints(z, sft_waypoints=plans)``.
For envs whose action is not a waypoint plan (``--env mountain_car``) the base is the
zero action: ``policy.final_actions(obs)`` -> (B, action_dim).

Everything is read from the files themselves: the sizes from the tensors' shapes,
``delta_clip`` from ``cfg``, the env from ``env_name`` (traffic: the planner sees the
first 1 + 2H numbers of the observation, the heads all of it, 1 + 2H + 10K with K =
``traffic_cfg.neighbors``, or 1 + 2H + 8K when ``traffic_cfg.path_features`` is false or
absent, a file from before the path block), and the running observation normaliser from ``obs_rms``
when the checkpoint carries one (applied before both heads, never before the planner).
A file that is not what it should be is refused with a ``ValueError`` naming the file
and the key. The heads are stored for the raw observation (any fixed input scale the
run trained with is folded into ``net.0.weight``), so nothing else is applied.

Only the standard library, torch and numpy are needed. The default dtype is float64:
the weights are float32 numbers, and computing in float64 gives what the tool itself
computes (to about 1e-15); ``dtype=torch.float32`` is faster and differs by float32
rounding.
"""

from __future__ import annotations

import math
import os
import stat
import zipfile

import numpy as np
import torch
from torch import nn

__all__ = [
    "DeltaHead",
    "DeltaWaypointPolicy",
    "ObsNormalizer",
    "ValueHead",
    "load_policy",
    "load_sft_planner",
]

#: envs whose action is a plan of H waypoints (x, y) in the car frame
WAYPOINT_ENVS = ("driving", "traffic")
#: numbers per neighbouring vehicle in the traffic observation
NEIGHBOR_FEATURES = 8
#: ``delta_clip`` of a checkpoint whose ``cfg`` records none (the Python trainer's default)
DEFAULT_DELTA_CLIP = 2.0
#: numbers per neighbouring vehicle in the traffic observation's path block
PATH_FEATURES = 2
#: ``traffic_cfg.neighbors`` of a traffic checkpoint that records none
DEFAULT_NEIGHBORS = 8


class DeltaHead(nn.Module):
    """The policy: mean = net(z) (in -> hidden -> ReLU -> hidden -> ReLU -> A), and a
    state-independent ``log_std`` of the action's shape ([H, 2] for waypoints)."""

    def __init__(self, in_dim: int, hidden: int, action_shape: tuple[int, ...]):
        super().__init__()
        self.log_std = nn.Parameter(torch.zeros(*action_shape))
        self.net = nn.Sequential(
            nn.Linear(in_dim, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, math.prod(action_shape)),
        )


class ValueHead(nn.Module):
    """The critic: net(z) (in -> hidden -> ReLU -> 1)."""

    def __init__(self, in_dim: int, hidden: int):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, 1))


class ObsNormalizer(nn.Module):
    """The running observation normaliser of a checkpoint's ``obs_rms``:
    ``clamp((z - mean) / sqrt(var + epsilon), -clip, clip)``."""

    def __init__(self, mean: torch.Tensor, var: torch.Tensor, epsilon: float, clip: float,
                 count: float):
        super().__init__()
        self.register_buffer("mean", mean)
        self.register_buffer("var", var)
        self.epsilon = epsilon
        self.clip = clip
        self.count = count

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.clamp((z - self.mean) / torch.sqrt(self.var + self.epsilon), -self.clip,
                           self.clip)


class DeltaWaypointPolicy(nn.Module):
    """A trained delta head over a frozen base planner; see :func:`load_policy`.

    Attributes: ``obs_dim`` (the observation the heads take), ``env_name``,
    ``waypoints`` (whether the action is a plan of waypoints), ``horizon`` (H, or None),
    ``z_dim`` (1 + 2H, what the planner takes, or None), ``action_shape`` (of one
    action: (H, 2) for waypoints), ``action_dim``, ``delta_clip``, ``delta_head``,
    ``value_head``, ``obs_norm`` (an :class:`ObsNormalizer` or None), ``sft_planner``
    (the MLP planner as ``nn.Sequential`` or None), ``recorded_sft_model`` (the SFT
    planner file the run refined, as recorded in the checkpoint, or None).

    Every method takes a batch (B, obs_dim) or one observation (obs_dim,) as a tensor,
    an array or a list, and answers in kind (with or without the batch dimension).
    """

    def __init__(self, *, env_name: str, obs_dim: int, hidden: int, value_hidden: int,
                 action_shape: tuple[int, ...], delta_clip: float, z_dim: int | None,
                 recorded_sft_model: str | None):
        super().__init__()
        self.env_name = env_name
        self.waypoints = env_name in WAYPOINT_ENVS
        self.obs_dim = obs_dim
        self.action_shape = tuple(action_shape)
        self.action_dim = math.prod(action_shape)
        self.horizon = action_shape[0] if self.waypoints else None
        self.z_dim = z_dim
        self.delta_clip = delta_clip
        self.recorded_sft_model = recorded_sft_model
        self.delta_head = DeltaHead(obs_dim, hidden, self.action_shape)
        self.value_head = ValueHead(obs_dim, value_hidden)
        self.obs_norm: ObsNormalizer | None = None
        self.sft_planner: nn.Sequential | None = None

    @property
    def dtype(self) -> torch.dtype:
        return self.delta_head.log_std.dtype

    def normalize(self, obs) -> torch.Tensor:
        """What the heads see: the observation through ``obs_rms`` (when the checkpoint
        has one), else the observation itself. (B, obs_dim)."""
        x, single = self._batch(obs)
        return self._unbatch(self._heads_input(x), single)

    def delta(self, obs, clip: bool = True) -> torch.Tensor:
        """The delta head's mean action, clipped to +-delta_clip (``clip=False``: as the
        net outputs it). (B, *action_shape): (B, H, 2) for waypoints."""
        x, single = self._batch(obs)
        return self._unbatch(self._delta(x, clip), single)

    def value(self, obs) -> torch.Tensor:
        """The value head's estimate of the return. (B,)."""
        x, single = self._batch(obs)
        return self._unbatch(self.value_head.net(self._heads_input(x))[:, 0], single)

    def sft_waypoints(self, obs) -> torch.Tensor:
        """The MLP planner's plan on the first ``z_dim`` numbers of each observation.
        (B, H, 2). Needs ``sft_model`` at load time."""
        x, single = self._batch(obs)
        return self._unbatch(self._plans(x), single)

    def final_waypoints(self, obs, sft_waypoints=None) -> torch.Tensor:
        """``sft_waypoints + clip(delta)``: the plan the car drives. (B, H, 2).

        ``sft_waypoints`` (B, H, 2) or (B, 2H): the base planner's plan for these
        observations; default: the MLP planner's (``sft_model`` at load time)."""
        if not self.waypoints:
            raise ValueError(
                f"env '{self.env_name}' takes actions, not waypoints: use final_actions(obs)")
        x, single = self._batch(obs)
        base = self._plans(x) if sft_waypoints is None else \
            self._base(sft_waypoints, x.shape[0], single, "sft_waypoints")
        return self._unbatch(base + self._delta(x), single)

    def final_actions(self, obs, base_actions=None) -> torch.Tensor:
        """The action the env receives, flat: (B, action_dim). For waypoints
        ``final_waypoints`` as [x1, y1, ..., xH, yH] (``base_actions``: the SFT plans);
        otherwise ``base_actions + clip(delta)``, by default the zero action's (as the
        tool runs such envs)."""
        x, single = self._batch(obs)
        delta = self._delta(x)
        if base_actions is not None:
            out = self._base(base_actions, x.shape[0], single, "base_actions") + delta
        elif self.waypoints:
            out = self._plans(x) + delta
        else:
            out = delta
        return self._unbatch(out.reshape(-1, self.action_dim), single)

    def forward(self, obs, base_actions=None) -> torch.Tensor:
        """:meth:`final_actions`."""
        return self.final_actions(obs, base_actions)

    # --- on batches (B, obs_dim) of self.dtype

    def _heads_input(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.obs_norm is None else self.obs_norm(x)

    def _delta(self, x: torch.Tensor, clip: bool = True) -> torch.Tensor:
        mean = self.delta_head.net(self._heads_input(x))
        if clip:
            mean = torch.clamp(mean, -self.delta_clip, self.delta_clip)
        return mean.reshape(-1, *self.action_shape)

    def _plans(self, x: torch.Tensor) -> torch.Tensor:
        if self.sft_planner is None:
            raise ValueError(self._no_planner_message())
        return self.sft_planner(x[:, :self.z_dim]).reshape(-1, self.horizon, 2)

    def _batch(self, value) -> tuple[torch.Tensor, bool]:
        x = _as_tensor(value, self.dtype)
        single = x.dim() == 1
        if single:
            x = x.unsqueeze(0)
        if x.dim() != 2 or x.shape[1] != self.obs_dim:
            raise ValueError(f"obs: expected shape (B, {self.obs_dim}) or ({self.obs_dim},), "
                             f"got {tuple(x.shape)}")
        return x, single

    def _base(self, value, rows: int, single: bool, name: str) -> torch.Tensor:
        b = _as_tensor(value, self.dtype)
        if single and b.numel() == self.action_dim:
            b = b.reshape(1, -1)
        if b.dim() < 2 or b.shape[0] != rows or b[0].numel() != self.action_dim:
            shape = ", ".join(map(str, self.action_shape))
            raise ValueError(f"{name}: expected shape ({rows}, {shape}) or ({rows}, "
                             f"{self.action_dim}), got {tuple(b.shape)}")
        return b.reshape(rows, *self.action_shape)

    @staticmethod
    def _unbatch(t: torch.Tensor, single: bool) -> torch.Tensor:
        return t[0] if single else t

    def _no_planner_message(self) -> str:
        why = (f"the run refined the SFT planner {self.recorded_sft_model!r}; pass it as "
               "load_policy(..., sft_model=PATH)" if self.recorded_sft_model else
               "the run refined the built-in planner, which is not an MLP")
        return f"no SFT planner loaded ({why}); or pass sft_waypoints= (your planner's plans)"


def load_policy(checkpoint, sft_model=None, *, dtype: torch.dtype = torch.float64
                ) -> DeltaWaypointPolicy:
    """The policy of a training checkpoint, with the MLP planner of ``sft_model`` (the
    ``model.pt`` of ``sft``) as its base planner when given. Frozen, in eval mode, on
    the CPU, in ``dtype``.

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` for one that is
    not a training checkpoint (or SFT planner file) that fits: the message names the
    file and the key."""
    path = os.fspath(checkpoint)
    root = _read_pt(path)
    if not isinstance(root, dict):
        raise ValueError(f"{path}: not a training checkpoint (it holds a "
                         f"{type(root).__name__}, not a dict)")
    for key in ("delta_head", "value_head"):
        if not isinstance(root.get(key), dict):
            raise ValueError(f"{path}: not a training checkpoint (no '{key}' state_dict; "
                             f"top-level keys: {', '.join(map(str, root)) or 'none'})")
    dh, vh = root["delta_head"], root["value_head"]
    _exact_keys(dh, ["log_std", "net.0.weight", "net.0.bias", "net.2.weight", "net.2.bias",
                     "net.4.weight", "net.4.bias"], f"{path}: delta_head")
    _exact_keys(vh, ["net.0.weight", "net.0.bias", "net.2.weight", "net.2.bias"],
                f"{path}: value_head")
    log_std = _float_tensor(dh, "log_std", f"{path}: delta_head")
    w0 = _float_tensor(dh, "net.0.weight", f"{path}: delta_head")
    vw0 = _float_tensor(vh, "net.0.weight", f"{path}: value_head")
    if log_std.dim() == 0 or w0.dim() != 2 or vw0.dim() != 2:
        raise ValueError(f"{path}: delta_head.log_std has shape {list(log_std.shape)}, "
                         f"net.0.weight {list(w0.shape)}: expected [H, 2] (or the action's "
                         "shape) and [hidden, in]")
    hidden, obs_dim = w0.shape
    action_shape = tuple(log_std.shape)
    action_dim = math.prod(action_shape)

    env_name = root.get("env_name")
    env_name = "driving" if env_name is None else env_name
    if not isinstance(env_name, str):
        raise ValueError(f"{path}: env_name: expected a string, got {env_name!r}")
    z_dim = None
    if env_name in WAYPOINT_ENVS:
        if len(action_shape) != 2 or action_shape[1] != 2:
            raise ValueError(f"{path}: delta_head.log_std has shape {list(action_shape)}, "
                             "expected [H, 2] (a plan of H waypoints)")
        z_dim = 1 + 2 * action_shape[0]
        want, why = z_dim, "1 + 2H: speed, then the H target waypoints"
        if env_name == "traffic":
            k, per = _traffic_neighbors(root, path)
            want = z_dim + per * k
            why = f"1 + 2H + {per}K: z, then K = {k} neighbouring vehicles"
            if per > NEIGHBOR_FEATURES:
                why += " and their place on the route path"
        if obs_dim != want:
            raise ValueError(f"{path}: delta_head.net.0.weight has shape {list(w0.shape)}, "
                             f"expected [{hidden}, {want}] ({why}, with H = {action_shape[0]})")

    expected_delta = {
        "net.0.weight": (hidden, obs_dim), "net.0.bias": (hidden,),
        "net.2.weight": (hidden, hidden), "net.2.bias": (hidden,),
        "net.4.weight": (action_dim, hidden), "net.4.bias": (action_dim,),
    }
    value_hidden = vw0.shape[0]
    expected_value = {
        "net.0.weight": (value_hidden, obs_dim), "net.0.bias": (value_hidden,),
        "net.2.weight": (1, value_hidden), "net.2.bias": (1,),
    }
    for sd, expected, where in ((dh, expected_delta, "delta_head"),
                                (vh, expected_value, "value_head")):
        for key, shape in expected.items():
            _float_tensor(sd, key, f"{path}: {where}", shape)

    cfg = root.get("cfg")
    if cfg is not None and not isinstance(cfg, dict):
        raise ValueError(f"{path}: cfg: expected a dict, got {type(cfg).__name__}")
    delta_clip = (cfg or {}).get("delta_clip", DEFAULT_DELTA_CLIP)
    if isinstance(delta_clip, bool) or not isinstance(delta_clip, (int, float)) or \
            not math.isfinite(delta_clip) or delta_clip < 0:
        raise ValueError(f"{path}: cfg.delta_clip: expected a number >= 0, got {delta_clip!r}")

    recorded = root.get("sft_model")
    policy = DeltaWaypointPolicy(
        env_name=env_name, obs_dim=obs_dim, hidden=hidden, value_hidden=value_hidden,
        action_shape=action_shape, delta_clip=float(delta_clip), z_dim=z_dim,
        recorded_sft_model=recorded if isinstance(recorded, str) else None)
    policy.to(dtype)  # before loading: float64 weights in a file stay float64
    policy.delta_head.load_state_dict(dh, strict=True)
    policy.value_head.load_state_dict(vh, strict=True)
    if root.get("obs_rms") is not None:
        policy.obs_norm = _obs_normalizer(root["obs_rms"], obs_dim, path)
    if sft_model is not None:
        if not policy.waypoints:
            raise ValueError(f"{path}: env '{env_name}' refines the zero action; sft_model "
                             "is for the waypoint envs (driving, traffic)")
        policy.sft_planner = load_sft_planner(sft_model, horizon=policy.horizon, dtype=dtype)
    return policy.to(dtype).eval().requires_grad_(False)


def load_sft_planner(path, *, horizon: int | None = None, dtype: torch.dtype = torch.float32
                     ) -> nn.Sequential:
    """The MLP planner of an SFT planner file (``{"head": state_dict, "in_dim",
    "horizon_steps", ...}``) as ``nn.Sequential(Linear(1 + 2H, hidden), ReLU(),
    Linear(hidden, 2H))`` in ``dtype``. Given ``horizon``, H must be it."""
    path = os.fspath(path)
    root = _read_pt(path)
    head = root.get("head") if isinstance(root, dict) else None
    if not isinstance(head, dict):
        raise ValueError(f"{path}: not an SFT planner file (no 'head' state_dict)")
    _exact_keys(head, ["0.weight", "0.bias", "2.weight", "2.bias"], f"{path}: head")
    w0 = _float_tensor(head, "0.weight", f"{path}: head")
    w2 = _float_tensor(head, "2.weight", f"{path}: head")
    if w0.dim() != 2 or w2.dim() != 2 or w2.shape[0] % 2 or w2.shape[0] == 0:
        raise ValueError(f"{path}: head.0.weight has shape {list(w0.shape)} and head.2.weight "
                         f"{list(w2.shape)}: expected [hidden, 1 + 2H] and [2H, hidden]")
    hidden, in_dim = w0.shape
    h = w2.shape[0] // 2
    if horizon is not None and h != horizon:
        raise ValueError(f"{path}: head.2.weight has shape {list(w2.shape)}, expected "
                         f"[{2 * horizon}, {hidden}] (2H of the policy, H = {horizon})")
    if in_dim != 1 + 2 * h:
        raise ValueError(f"{path}: head.0.weight has shape {list(w0.shape)}, expected "
                         f"[{hidden}, {1 + 2 * h}] (1 + 2H: speed, then the H targets)")
    for key, want in (("in_dim", in_dim), ("horizon_steps", h), ("hidden_dim", hidden)):
        if key in root and root[key] != want:
            raise ValueError(f"{path}: {key} is {root[key]!r}, the weights' shapes say {want}")
    for key, shape in (("0.bias", (hidden,)), ("2.weight", (2 * h, hidden)),
                       ("2.bias", (2 * h,))):
        _float_tensor(head, key, f"{path}: head", shape)
    planner = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, 2 * h))
    planner.to(dtype).load_state_dict(head, strict=True)
    return planner


def _as_tensor(value, dtype: torch.dtype) -> torch.Tensor:
    return torch.as_tensor(np.asarray(value) if isinstance(value, (list, tuple)) else value,
                           dtype=dtype)


def _read_pt(path: str):
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such file") from None
    if not stat.S_ISREG(mode):
        raise ValueError(f"{path}: not a regular file")
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path}: not a PyTorch checkpoint (not the zip archive torch.save "
                         "writes)")
    try:
        # weights_only: tensors and plain data only, no code from the file is run
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - torch raises many kinds for a bad file
        lines = str(e).strip().splitlines()
        raise ValueError(f"{path}: not a PyTorch checkpoint torch.load can read "
                         f"({type(e).__name__}{': ' + lines[0] if lines else ''})") from e


def _exact_keys(sd: dict, keys: list[str], where: str) -> None:
    for key in keys:
        if key not in sd:
            raise ValueError(f"{where}.{key}: missing")
    for key in sd:
        if key not in keys:
            raise ValueError(f"{where}.{key}: unexpected key (expected {', '.join(keys)})")


def _float_tensor(sd: dict, key: str, where: str, shape=None) -> torch.Tensor:
    t = sd[key]
    if not isinstance(t, torch.Tensor) or not t.is_floating_point():
        kind = f"a {t.dtype} tensor" if isinstance(t, torch.Tensor) else type(t).__name__
        raise ValueError(f"{where}.{key}: expected a float tensor, got {kind}")
    if shape is not None and tuple(t.shape) != tuple(shape):
        raise ValueError(f"{where}.{key}: has shape {list(t.shape)}, expected {list(shape)}")
    if not bool(torch.isfinite(t).all()):
        raise ValueError(f"{where}.{key}: holds a non-finite value")
    return t


def _number(d: dict, key: str, where: str, *, low: float, strict: bool = False) -> float:
    v = d.get(key)
    if isinstance(v, torch.Tensor) and v.numel() == 1:
        v = v.item()
    ok = (not isinstance(v, bool) and isinstance(v, (int, float)) and math.isfinite(v)
          and (v > low if strict else v >= low))
    if not ok:
        raise ValueError(f"{where}.{key}: expected a number {'>' if strict else '>='} {low}, "
                         f"got {v!r}")
    return float(v)


def _obs_normalizer(rms, obs_dim: int, path: str) -> ObsNormalizer:
    where = f"{path}: obs_rms"
    if not isinstance(rms, dict):
        raise ValueError(f"{where}: expected a dict {{mean, var, count, epsilon, clip}}, got "
                         f"{type(rms).__name__}")
    for key in ("mean", "var"):
        if key not in rms:
            raise ValueError(f"{where}.{key}: missing")
    mean = _float_tensor(rms, "mean", where, (obs_dim,)).to(torch.float64)
    var = _float_tensor(rms, "var", where, (obs_dim,)).to(torch.float64)
    if bool((var < 0).any()):
        raise ValueError(f"{where}.var: holds a negative value")
    epsilon = _number(rms, "epsilon", where, low=0)
    clip = _number(rms, "clip", where, low=0, strict=True)
    count = _number(rms, "count", where, low=0) if "count" in rms else 0.0
    if bool((var + epsilon <= 0).any()):
        raise ValueError(f"{where}: var + epsilon is 0 somewhere (a division by zero)")
    return ObsNormalizer(mean, var, epsilon, clip, count)


def _traffic_neighbors(root: dict, path: str) -> tuple:
    """K and the numbers per neighbour (8, plus 2 with ``traffic_cfg.path_features``)."""
    cfg = root.get("traffic_cfg")
    if cfg is None:
        return DEFAULT_NEIGHBORS, NEIGHBOR_FEATURES
    k = cfg.get("neighbors", DEFAULT_NEIGHBORS) if isinstance(cfg, dict) else None
    if isinstance(k, bool) or not isinstance(k, int) or k < 0:
        raise ValueError(f"{path}: traffic_cfg.neighbors: expected an integer >= 0, got {k!r}")
    path_features = cfg.get("path_features", False)
    if not isinstance(path_features, bool):
        raise ValueError(f"{path}: traffic_cfg.path_features: expected a bool, "
                         f"got {path_features!r}")
    return k, NEIGHBOR_FEATURES + (PATH_FEATURES if path_features else 0)
