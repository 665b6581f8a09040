/**
 * Another job named on a page (the job a cached one reuses, a dependency in a tagged run): a
 * link where the reader may open it. The cache is the team's, so it may be another user's job,
 * which the API answers as it does a job that does not exist (404): the job that names it says
 * whose it is (`anotherUser`: JobRecord.cachedFromAnotherUser), and a pruned one shows as gone.
 * Another user's job is named without its id, as the CLI names it: an id tells the reader nothing
 * they may open.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError } from '../api/client.js';
import { jobHref, Link } from './link.js';

type Access = 'open' | 'another user' | 'gone';

/** Per job, for the tab's life: pages that poll every 2 s ask once. */
const known = new Map<string, Promise<Access | undefined>>();

function accessTo(id: string): Promise<Access | undefined> {
  let access = known.get(id);
  if (!access) {
    access = api.job(id).then(
      (): Access => 'open',
      (e: unknown) => {
        if (e instanceof ApiError && e.status === 403) return 'another user';
        if (e instanceof ApiError && e.status === 404) return 'gone';
        known.delete(id); // the network, the server: ask again next time
        return undefined;
      },
    );
    known.set(id, access);
  }
  return access;
}

export function JobRef({ id, anotherUser }: { id: string; anotherUser?: boolean | undefined }) {
  const [access, setAccess] = useState<Access>();
  useEffect(() => {
    let current = true;
    setAccess(undefined);
    void accessTo(id).then((a) => current && setAccess(a));
    return () => {
      current = false;
    };
  }, [id]);
  if (access === 'open') return <Link href={jobHref(id)}>{id}</Link>;
  // 403: from a server that still told another user's job apart.
  if (access === 'another user' || (access === 'gone' && anotherUser)) {
    return (
      <span class="job-ref" title="Only its owner (or an admin) can open it">
        another user's job
      </span>
    );
  }
  if (access === 'gone') return <span class="job-ref">{id} (deleted)</span>;
  return <span class="job-ref">{id}</span>;
}
