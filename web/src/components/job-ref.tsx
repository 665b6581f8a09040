/**
 * Another job named on a page (the job a cached one reuses, a dependency in a tagged run): a
 * link where the reader may open it. The cache is the team's, so it may be another user's job,
 * whose page would only say so (403): that shows as text that says whose it is, as far as the
 * API tells (it names no owner), and a pruned one as gone.
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

export function JobRef({ id }: { id: string }) {
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
  if (access === 'another user') {
    return (
      <span class="job-ref" title="Only its owner (or an admin) can open it">
        {id} (another user's job)
      </span>
    );
  }
  if (access === 'gone') return <span class="job-ref">{id} (deleted)</span>;
  return <span class="job-ref">{id}</span>;
}
