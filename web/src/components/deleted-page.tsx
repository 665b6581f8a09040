/**
 * A run or job the server stopped knowing while its page was open (`dstack prune` deleted it):
 * the page says so in place of what it showed, rather than go on showing a stale status and
 * buttons above the server's CLI-worded 404.
 */
import { ApiError } from '../api/client.js';
import { Link } from './link.js';

/** Whether `error` says that what the page showed (`shown`) is gone. */
export const wasDeleted = (error: Error | undefined, shown: unknown): boolean =>
  shown !== undefined && error instanceof ApiError && error.status === 404;

export function DeletedPage({ what }: { what: string }) {
  return (
    <main>
      <p class="error" role="alert">
        {what} was deleted after this page opened (dstack prune deletes finished runs, with their logs and artifacts).
      </p>
      <p>
        <Link href="/">See the runs.</Link>
      </p>
    </main>
  );
}
