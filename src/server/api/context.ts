/** What every route handler gets: the engine and the authenticated caller. */
import type { Engine } from '../engine.js';
import type { TokenRecord } from '../store/store.js';

export interface ApiEnv {
  Variables: { caller: TokenRecord };
}

export interface ApiDeps {
  engine: Engine;
}
