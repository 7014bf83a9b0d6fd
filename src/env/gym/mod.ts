/**
 * The Gymnasium bridge: any Gymnasium env with Box spaces as a `VecEnv`, run by the Python
 * worker the project ships (`python/gym_worker.py`) over pipes with binary frames. The
 * protocol, what resume restores, and the errors are in `docs/gym_bridge.md`.
 *
 * @example
 * ```ts ignore
 * import { GymVecEnv } from "./src/env/gym/mod.ts";
 * const venv = await GymVecEnv.start({ python: "python3", id: "Pendulum-v1", numEnvs: 8 });
 * await venv.reset([0, 1, 2, 3, 4, 5, 6, 7]);
 * await venv.close();
 * ```
 *
 * @module
 */

export { GymVecEnv, GymWorkerError } from "./gym_vec_env.ts";
export { gymEnvDefinition, type GymEnvOptions, type GymSection } from "./definition.ts";
export { GYM_TIMEOUT_MS, GYM_WORKER_URL, type GymVecEnvOptions } from "./handshake.ts";
