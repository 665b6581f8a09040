/** The image of a job: used when the engine has it, pulled otherwise with progress in the job's log. */
import type Docker from 'dockerode';
import { InvalidError, UnavailableError } from '../../../core/errors.js';
import { IMAGE_REFERENCE_EXPECTED, isImageReference } from '../../../core/image-reference.js';
import { engineMessage, statusOf } from './engine.js';
import { PullProgress, type PullEvent } from './pull-progress.js';

/** What the engine says of `image` (its USER, among others), pulling it first when it lacks it. */
export async function ensureImage(
  docker: Docker,
  image: string,
  note: (text: string) => void = () => {},
  signal?: AbortSignal,
): Promise<Docker.ImageInspectInfo> {
  // Submissions are checked, but a runner must not be brought down by one that slipped through:
  // the engine's redirect for such a path throws where nothing can catch it.
  if (!isImageReference(image))
    throw new InvalidError(`invalid image '${image}': expected ${IMAGE_REFERENCE_EXPECTED}`);
  try {
    return await docker.getImage(image).inspect();
  } catch (e) {
    if (statusOf(e) !== 404) throw new UnavailableError(`cannot inspect image '${image}': ${engineMessage(e)}`);
  }
  note(`image ${image} is not on this runner; pulling it`);
  const failed = async (detail: string) =>
    new InvalidError(
      `image '${image}' is not on this runner and pulling it failed: ${detail}${await alike(docker, image)}`,
    );
  let stream: NodeJS.ReadableStream;
  try {
    stream = (await docker.pull(image)) as NodeJS.ReadableStream;
  } catch (e) {
    throw await failed(engineMessage(e));
  }
  const progress = new PullProgress(image);
  await new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      (stream as unknown as { destroy?: () => void }).destroy?.();
      reject(new Error(`pulling image '${image}' was abandoned`));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    docker.modem.followProgress(
      stream,
      (error: Error | null, events: PullEvent[]) => {
        signal?.removeEventListener('abort', onAbort);
        const bad = events?.find((ev) => ev.error !== undefined);
        if (error || bad) void failed(error ? error.message : bad!.error!).then(reject);
        else resolve();
      },
      (event: PullEvent) => {
        const line = progress.update(event);
        if (line !== undefined) note(line);
      },
    );
  });
  note(`${progress.line()}: done`);
  return docker.getImage(image).inspect();
}

/** The engine's tags of `image`'s repository, for a message: a misspelt tag (`:latst`) shows what there is. */
async function alike(docker: Docker, image: string): Promise<string> {
  const repository = image.replace(/@.*$/, '').replace(/:[^/:]*$/, '');
  const filters = JSON.stringify({ reference: [repository] });
  const found = await docker.listImages({ filters }).catch(() => []);
  const tags = found.flatMap((i) => i.RepoTags ?? []).filter((t) => t !== '<none>:<none>');
  if (tags.length === 0) return '';
  const shown = tags.sort().slice(0, 5);
  return `; this runner has ${shown.join(', ')}${tags.length > shown.length ? ` and ${tags.length - shown.length} more` : ''}`;
}
