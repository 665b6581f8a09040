/** Whether a run may take a tag: no other run has it, and none is to get it once it ends. */
import { ConflictError } from '../core/errors.js';
import { tagPromised, tagTaken } from '../core/projects.js';
import type { RunRecord } from '../core/records.js';
import type { Engine } from './engine.js';
import type { TagScope } from './store/store.js';

/**
 * Refuse `tag` in `scope` when another run has it, or an unfinished one was submitted to get it
 * once DONE (`dstack run --tag`): two runs submitted with one tag, or a `tags add` while one
 * runs, left the run that ended later untagged, which after `run -d` nobody saw. `self`: the
 * run that asks (a resumed one, a `tags add`), never in its own way: when it has the tag
 * already, that run is returned and nothing more is asked. Callers hold `engine.serialize`, as
 * submissions do, so that two of them cannot both find the tag free.
 */
export async function checkTagFree(
  engine: Engine,
  scope: TagScope,
  tag: string,
  self?: string,
): Promise<RunRecord | undefined> {
  const owner = await engine.store.getRunByTag(scope, tag);
  if (owner) {
    if (owner.name === self) return owner;
    throw new ConflictError(tagTaken(tag, scope.project, owner.name));
  }
  const promised = await engine.store.runPromisedTag(scope, tag, self);
  if (promised) throw new ConflictError(tagPromised(tag, scope.project, promised.name));
}
