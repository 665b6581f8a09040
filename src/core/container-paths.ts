/**
 * Where dstack and the engine put things in a job's container, and the absolute artifact paths
 * that rules out. An absolute artifact is a folder of the job's on the runner, mounted at its
 * path: at the workspace's own mount, at dstack's, or over what the kernel and the engine give
 * every container, it fails at the job's start with the engine's raw error, or saves the
 * engine's stubs (an empty /etc/hosts) instead of what the job meant.
 */

/** Where a job's workspace is inside its container; also the commands' working directory. */
export const CONTAINER_WORKSPACE = '/workspace';
/** Where dstack mounts its own files in a job's container (the job's script, the ownership mark). */
export const CONTAINER_DSTACK_DIR = '/.dstack';
/** Where a python job's virtualenv is mounted in its container. */
export const CONTAINER_VENV = '/opt/dstack/venv';
/** The folders dstack mounts its own things in. */
const DSTACK_DIRS = [CONTAINER_DSTACK_DIR, '/opt/dstack'];

/** Kernel file systems every container has: nothing a job writes there is a file to save. */
const KERNEL_DIRS = ['/proc', '/sys', '/dev'];
/** Files the engine makes in every container, mounted from its own. */
const ENGINE_FILES = ['/etc/hosts', '/etc/hostname', '/etc/resolv.conf'];

/** Whether `path` is `dir` or inside it. */
const within = (path: string, dir: string) => path === dir || path.startsWith(`${dir}/`);

/**
 * Why the absolute artifact `path` (normalised: no `.`, `..` or doubled `/`) cannot be a folder
 * mounted in a job's container, or undefined when it can. Below /etc is allowed (an app's
 * settings folder), /etc itself is not: the engine's files are mounted in it.
 */
export function reservedArtifact(path: string): string | undefined {
  const instead = 'name a folder the job writes its files to, such as /opt/results';
  if (path === CONTAINER_WORKSPACE)
    return `is ${CONTAINER_WORKSPACE}, the job's workspace itself: name a folder or file of the project, relative to it`;
  if (within(path, CONTAINER_WORKSPACE)) {
    const relative = path.slice(CONTAINER_WORKSPACE.length + 1);
    return `is inside ${CONTAINER_WORKSPACE}, the job's workspace: name it relative to the project ('${relative}')`;
  }
  const dstack = DSTACK_DIRS.find((dir) => within(path, dir));
  if (dstack !== undefined)
    return `is in ${dstack}, where dstack mounts its own files in a job's container: ${instead}`;
  const kernel = KERNEL_DIRS.find((dir) => within(path, dir));
  if (kernel !== undefined)
    return `is in ${kernel}, a file system the kernel gives every container, not files a job saves: ${instead}`;
  if (path === '/etc')
    return `is /etc, where the engine mounts the container's hosts, hostname and resolv.conf files: ${instead}`;
  if (ENGINE_FILES.includes(path)) return `is a file the engine mounts in every container: ${instead}`;
  return undefined;
}

/** Endings of names that are files, not folders, nearly always: models, data, archives, logs. */
const FILE_ENDING =
  /\.(bin|pt|pth|ckpt|safetensors|onnx|h5|pkl|pickle|joblib|npy|npz|json|ya?ml|txt|csv|tsv|log|parquet|tar|gz|tgz|zip|db|sqlite)$/i;

/**
 * A warning for an absolute artifact whose name is a file's (`/opt/model.bin`), or undefined:
 * the runner mounts a folder there, so a job that writes the file fails with `Is a directory`.
 * A warning, not an error: a folder may be named so.
 */
export function fileLikeArtifact(path: string): string | undefined {
  if (!FILE_ENDING.test(path)) return undefined;
  const name = path.slice(path.lastIndexOf('/') + 1);
  const folder = path.slice(0, path.lastIndexOf('.'));
  return (
    `is named like a file, but an absolute artifact is a folder, mounted at its path (a job that writes a file ` +
    `there fails with 'Is a directory'): write the file in a folder (${folder}/${name}) and name the folder ('${folder}')`
  );
}
