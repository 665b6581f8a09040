/** Conformance: artifacts, runners, tokens and migrations. */
import { describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError } from '../../../src/core/errors.js';
import type { ArtifactManifest } from '../../../src/core/records.js';
import type { TokenRecord } from '../../../src/server/store/store.js';
import { makeRunner, seedRun, useFreshStore, type OpenStore } from '../fixtures.js';

const MANIFEST: ArtifactManifest = {
  artifacts: [
    {
      path: 'checkpoints',
      files: [
        { path: 'checkpoints/model.pt', size: 1024, mode: 0o644, digest: 'ab'.repeat(32) },
        { path: 'checkpoints/latest', size: 0, mode: 0o777, link: 'model.pt' },
      ],
    },
    { path: 'empty', files: [] },
  ],
};

export function describeRegistry(open: OpenStore): void {
  describe('artifacts, runners, tokens, migrations', () => {
    const store = useFreshStore(open);

    it('setArtifacts then getArtifacts returns the manifest; setting it again replaces it', async () => {
      const { jobs } = await seedRun(store(), 'run-1', ['train']);
      const id = jobs[0]!.id;
      expect(await store().getArtifacts(id)).toBeUndefined();

      await store().setArtifacts(id, MANIFEST);
      expect(await store().getArtifacts(id)).toStrictEqual(MANIFEST);

      await store().setArtifacts(id, { artifacts: [] });
      expect(await store().getArtifacts(id)).toStrictEqual({ artifacts: [] });
    });

    it('setArtifacts for a job that does not exist throws NotFoundError', async () => {
      await expect(store().setArtifacts('000000000000', MANIFEST)).rejects.toThrow(
        new NotFoundError('job 000000000000 not found'),
      );
    });

    it('upsertRunner inserts a runner, then replaces the record of the same name', async () => {
      const first = makeRunner('gpu-1');
      await store().upsertRunner(first);
      expect(await store().getRunner('gpu-1')).toStrictEqual(first);

      const second = makeRunner('gpu-1', { host: '10.0.0.2', total: { cpu: 2, memory: 1e9, gpus: [] }, updatedAt: 9 });
      await store().upsertRunner(second);
      expect(await store().getRunner('gpu-1')).toStrictEqual(second);
      expect(await store().listRunners()).toHaveLength(1);
    });

    it('heartbeat moves updatedAt and nothing else, and answers the status; setRunnerStatus marks a runner LOST and ACTIVE again', async () => {
      const runner = makeRunner('gpu-1');
      await store().upsertRunner(runner);

      expect(await store().heartbeat('gpu-1', runner.updatedAt + 5000)).toBe('ACTIVE');
      expect(await store().getRunner('gpu-1')).toStrictEqual({ ...runner, updatedAt: runner.updatedAt + 5000 });

      await store().setRunnerStatus('gpu-1', 'LOST');
      expect((await store().getRunner('gpu-1'))?.status).toBe('LOST');
      expect(await store().heartbeat('gpu-1', runner.updatedAt + 5000)).toBe('LOST'); // says so; the caller brings it back
      await store().setRunnerStatus('gpu-1', 'ACTIVE');
      expect(await store().getRunner('gpu-1')).toStrictEqual({ ...runner, updatedAt: runner.updatedAt + 5000 });
    });

    it("heartbeat with a session moves only the registered session's runner; another's answers REPLACED and changes nothing", async () => {
      const runner = makeRunner('gpu-1', { session: 'session-a' });
      await store().upsertRunner(runner);
      expect(await store().getRunner('gpu-1')).toStrictEqual(runner);
      expect(await store().heartbeat('gpu-1', runner.updatedAt + 5000, 'session-a')).toBe('ACTIVE');
      expect(await store().heartbeat('gpu-1', runner.updatedAt + 9000, 'session-b')).toBe('REPLACED');
      expect(await store().heartbeat('gpu-1', runner.updatedAt + 9000, null)).toBe('REPLACED');
      expect(await store().getRunner('gpu-1')).toStrictEqual({ ...runner, updatedAt: runner.updatedAt + 5000 });
      // A runner that registered without one (an older runner) is heard by requests without one.
      await store().upsertRunner(makeRunner('gpu-1'));
      expect(await store().heartbeat('gpu-1', runner.updatedAt + 9000, null)).toBe('ACTIVE');
      expect(await store().heartbeat('gpu-1', runner.updatedAt + 9000, 'session-a')).toBe('REPLACED');
      await expect(store().heartbeat('ghost', 1, 'session-a')).rejects.toThrow(
        new NotFoundError('runner ghost is not registered'),
      );
    });

    it('heartbeat and setRunnerStatus of a runner that is not registered throw NotFoundError', async () => {
      await expect(store().heartbeat('ghost', 1)).rejects.toThrow(new NotFoundError('runner ghost is not registered'));
      await expect(store().setRunnerStatus('ghost', 'LOST')).rejects.toBeInstanceOf(NotFoundError);
      expect(await store().getRunner('ghost')).toBeUndefined();
    });

    it('listRunners returns every runner, by name', async () => {
      for (const name of ['gpu-2', 'cpu-1', 'gpu-1']) await store().upsertRunner(makeRunner(name));
      expect((await store().listRunners()).map((r) => r.name)).toEqual(['cpu-1', 'gpu-1', 'gpu-2']);
    });

    it('createToken then findToken by hash returns the token; an unknown hash returns undefined', async () => {
      const user: TokenRecord = { hash: 'a'.repeat(64), kind: 'user', name: 'ada', admin: true, createdAt: 1 };
      const runner: TokenRecord = { hash: 'b'.repeat(64), kind: 'runner', name: 'gpu-1', admin: false, createdAt: 2 };
      await store().createToken(user);
      await store().createToken(runner);
      expect(await store().findToken(user.hash)).toStrictEqual(user);
      expect(await store().findToken(runner.hash)).toStrictEqual(runner);
      expect(await store().findToken('c'.repeat(64))).toBeUndefined();
    });

    it('a token found once is no longer found after its tokens are deleted', async () => {
      // findToken remembers hits: deleting must not leave a deleted token usable.
      const token: TokenRecord = { hash: 'a'.repeat(64), kind: 'runner', name: 'gpu-1', admin: false, createdAt: 1 };
      await store().createToken(token);
      expect(await store().findToken(token.hash)).toStrictEqual(token);
      expect(await store().deleteTokens('runner', 'gpu-1')).toBe(1);
      expect(await store().findToken(token.hash)).toBeUndefined();
    });

    it("deleteToken deletes one token by its hash, found once or not, leaving its name's others", async () => {
      const a: TokenRecord = { hash: 'a'.repeat(64), kind: 'runner', name: 'slurm', admin: false, createdAt: 1 };
      const b: TokenRecord = { ...a, hash: 'b'.repeat(64), createdAt: 2 };
      await store().createToken(a);
      await store().createToken(b);
      expect(await store().findToken(a.hash)).toStrictEqual(a);
      expect(await store().deleteToken(a.hash)).toBe(true);
      expect(await store().deleteToken(a.hash)).toBe(false);
      expect(await store().findToken(a.hash)).toBeUndefined();
      expect(await store().findToken(b.hash)).toStrictEqual(b);
    });

    it("replaceTokens puts one new token in place of a name's tokens, found or not before, keeping its admin flag and first creation", async () => {
      const first: TokenRecord = { hash: 'a'.repeat(64), kind: 'user', name: 'ada', admin: true, createdAt: 5 };
      const second: TokenRecord = { ...first, hash: 'b'.repeat(64), createdAt: 9 };
      const runner: TokenRecord = { hash: 'c'.repeat(64), kind: 'runner', name: 'ada', admin: false, createdAt: 1 };
      const other: TokenRecord = { hash: 'd'.repeat(64), kind: 'user', name: 'bob', admin: false, createdAt: 1 };
      for (const t of [first, second, runner, other]) await store().createToken(t);
      expect(await store().findToken(first.hash)).toStrictEqual(first); // remembered by the token cache

      const fresh = await store().replaceTokens('user', 'ada', 'e'.repeat(64));
      expect(fresh).toStrictEqual({ hash: 'e'.repeat(64), kind: 'user', name: 'ada', admin: true, createdAt: 5 });
      expect(await store().findToken(first.hash)).toBeUndefined();
      expect(await store().findToken(second.hash)).toBeUndefined();
      expect(await store().findToken('e'.repeat(64))).toStrictEqual(fresh);
      // Another kind of the same name, and other names, keep theirs.
      expect(await store().findToken(runner.hash)).toStrictEqual(runner);
      expect(await store().findToken(other.hash)).toStrictEqual(other);
      expect((await store().listTokens('user')).map((t) => t.name)).toEqual(['ada', 'bob']);
    });

    it('replaceTokens of a name without tokens answers undefined and adds none', async () => {
      expect(await store().replaceTokens('runner', 'ghost', 'a'.repeat(64))).toBeUndefined();
      expect(await store().findToken('a'.repeat(64))).toBeUndefined();
      expect(await store().listTokens('runner')).toEqual([]);
    });

    it("setAdmin changes the flag on every token of the user's, found once or not, and leaves runners of the name alone", async () => {
      const first: TokenRecord = { hash: 'a'.repeat(64), kind: 'user', name: 'ada', admin: false, createdAt: 1 };
      const second: TokenRecord = { ...first, hash: 'b'.repeat(64), createdAt: 2 };
      const runner: TokenRecord = { hash: 'c'.repeat(64), kind: 'runner', name: 'ada', admin: false, createdAt: 1 };
      const root: TokenRecord = { hash: 'd'.repeat(64), kind: 'user', name: 'root', admin: true, createdAt: 1 };
      for (const t of [first, second, runner, root]) await store().createToken(t);
      expect(await store().findToken(first.hash)).toStrictEqual(first); // remembered by the token cache

      expect(await store().setAdmin('ada', true)).toBe('changed');
      expect(await store().findToken(first.hash)).toStrictEqual({ ...first, admin: true });
      expect(await store().findToken(second.hash)).toStrictEqual({ ...second, admin: true });
      expect(await store().findToken(runner.hash)).toStrictEqual(runner);
      expect(await store().setAdmin('ada', true)).toBe('unchanged');

      expect(await store().setAdmin('ada', false)).toBe('changed');
      expect(await store().findToken(first.hash)).toStrictEqual(first);
      expect(await store().setAdmin('ghost', true)).toBe('unknown');
    });

    it('setAdmin refuses to demote the last admin, even when two admins demote each other at once', async () => {
      const ada: TokenRecord = { hash: 'a'.repeat(64), kind: 'user', name: 'ada', admin: true, createdAt: 1 };
      const bob: TokenRecord = { ...ada, hash: 'b'.repeat(64), name: 'bob' };
      await store().createToken(ada);
      await store().createToken(bob);
      // Rounds, for the two transactions to overlap in some (on PostgreSQL's pool of connections).
      for (let round = 0; round < 10; round++) {
        await store().setAdmin('ada', true);
        await store().setAdmin('bob', true);
        const both = await Promise.all([store().setAdmin('ada', false), store().setAdmin('bob', false)]);
        expect(both.sort()).toEqual(['changed', 'last-admin']);
        expect((await store().listTokens('user')).filter((t) => t.admin)).toHaveLength(1);
      }
      const [admin] = (await store().listTokens('user')).filter((t) => t.admin);
      expect(await store().setAdmin(admin!.name, false)).toBe('last-admin');
    });

    it('a found token handed out cannot change what the next look-up returns', async () => {
      const token: TokenRecord = { hash: 'a'.repeat(64), kind: 'user', name: 'ada', admin: false, createdAt: 1 };
      await store().createToken(token);
      const found = await store().findToken(token.hash);
      found!.admin = true;
      expect(await store().findToken(token.hash)).toStrictEqual(token);
    });

    it('createToken with a hash that exists throws ConflictError', async () => {
      const token: TokenRecord = { hash: 'a'.repeat(64), kind: 'user', name: 'ada', admin: false, createdAt: 1 };
      await store().createToken(token);
      await expect(store().createToken({ ...token, name: 'bob' })).rejects.toBeInstanceOf(ConflictError);
      expect(await store().findToken(token.hash)).toStrictEqual(token);
    });

    it('migrate on a current schema is a no-op that keeps the data', async () => {
      const { run } = await seedRun(store(), 'run-1', ['train']);
      await store().migrate();
      await store().migrate();
      expect(await store().getRun('run-1')).toStrictEqual(run);
      expect(await store().jobsOfRuns(['run-1'])).toHaveLength(1);
    });
  });
}
