/** What every route handler gets: the engine and the authenticated caller. */
import type { Engine } from '../engine.js';
import type { TokenRecord } from '../store/store.js';

export interface ApiEnv {
  /** `receivedAt`: when the request reached the server (ms, its clock), before its token was checked. */
  Variables: { caller: TokenRecord; receivedAt: number };
}

export interface ApiDeps {
  engine: Engine;
}
