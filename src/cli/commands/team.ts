/** Team commands: `dstack config`, `dstack users`, `dstack runners`. */
import { Client } from '../../client/client.js';
import { configPath, readConfig, writeConfig, type CliConfig } from '../../client/profiles.js';
import { checkAccountName } from '../../core/account-names.js';
import { UsageError } from '../../core/errors.js';
import type { RunnerView } from '../../core/api.js';
import { formatSize } from '../../core/resources.js';
import type { Settings } from '../../settings.js';
import { connect } from '../connect.js';
import { runnerStartLines } from '../runner-start-line.js';
import { configToken, serverUrl } from '../credentials.js';
import { ago, table } from '../format.js';
import { secretFlag } from '../secret-flag.js';

export async function configCommand(
  options: { server?: string; token?: string; profile?: string; local?: boolean },
  settings: Settings,
): Promise<number> {
  const saving = options.server !== undefined || options.token !== undefined;
  if (options.local) {
    if (saving || options.profile !== undefined)
      throw new UsageError('--local takes no --server, --token or --profile');
    return useProfile(settings, undefined);
  }
  if (!saving) {
    // `--profile NAME` alone switches to a saved profile; plain `dstack config` lists them, as `dstack config list` does.
    return options.profile === undefined ? configListCommand(settings) : useProfile(settings, options.profile);
  }
  // The token as `dstack init` takes one: `-` reads stdin; DSTACK_TOKEN keeps it off the command line too.
  const fromEnv = options.token === undefined ? settings.token : undefined;
  if (!options.server || (options.token === undefined && fromEnv === undefined))
    throw new UsageError(
      'dstack config needs --server URL and a token: --token - (read from stdin), DSTACK_TOKEN, or --token TOKEN',
    );
  const name = options.profile ?? 'default';
  serverUrl(options.server, '--server');
  const token = fromEnv ?? (await secretFlag('--token', options.token!));
  const tokenSource = configToken(fromEnv === undefined ? 'the --token' : 'DSTACK_TOKEN');
  // Check before saving: a typo in the URL or token is better found now than at the next run.
  await new Client({ url: options.server, token, tokenSource }).health();
  const config = await readConfig(settings.home);
  config.profiles[name] = { server: options.server, token };
  config.current = name;
  await writeConfig(settings.home, config);
  process.stdout.write(
    `saved profile '${name}' (${options.server}) in ${configPath(settings.home)}; it is now the current one\n`,
  );
  return 0;
}

/** Make a saved profile the current one, or (undefined) go back to the local server. */
async function useProfile(settings: Settings, name: string | undefined): Promise<number> {
  const config = await readConfig(settings.home);
  if (name !== undefined && !(name in config.profiles)) {
    const saved = Object.keys(config.profiles);
    const which = saved.length > 0 ? `the saved ones: ${saved.join(', ')}` : 'none is saved';
    throw new UsageError(
      `no profile '${name}' (${which}); save it with: dstack config --server URL --token TOKEN --profile ${name}`,
    );
  }
  if (name === undefined) return useLocal(settings, config);
  config.current = name;
  await writeConfig(settings.home, config);
  process.stdout.write(`profile '${name}' (${config.profiles[name]!.server}) is now the current one\n`);
  return 0;
}

/** `dstack config --local`: naming the profiles kept, and none where there is none to switch back to. */
async function useLocal(settings: Settings, config: CliConfig): Promise<number> {
  const saved = Object.keys(config.profiles);
  if (saved.length === 0) {
    process.stdout.write(
      'dstack uses the local server (no profile is saved; add one with: dstack config --server URL --token TOKEN)\n',
    );
    return 0;
  }
  delete config.current;
  await writeConfig(settings.home, config);
  const kept = saved.length === 1 ? `profile '${saved[0]!}' is kept` : `profiles ${saved.join(', ')} are kept`;
  const back = saved.length === 1 ? saved[0]! : 'NAME';
  process.stdout.write(
    `dstack now uses the local server (${kept}; switch back with: dstack config --profile ${back})\n`,
  );
  return 0;
}

export async function configListCommand(settings: Settings): Promise<number> {
  const config = await readConfig(settings.home);
  const rows = Object.entries(config.profiles).map(([name, p]) => [
    name === config.current ? `${name} *` : name,
    p.server,
  ]);
  if (rows.length === 0)
    process.stdout.write(
      'No profiles: dstack uses the local server. Add one with: dstack config --server URL --token TOKEN\n',
    );
  else {
    process.stdout.write(table(['PROFILE', 'SERVER'], rows) + '\n');
    // After `dstack config --local` no row has the `*`: say which server the commands use then.
    if (config.current === undefined)
      process.stdout.write(
        'none is current: dstack uses the local server (switch with: dstack config --profile NAME)\n',
      );
  }
  return 0;
}

async function admin(settings: Settings) {
  return connect(settings);
}

export async function usersCommand(
  action: 'list' | 'add' | 'delete' | 'promote' | 'demote',
  name: string | undefined,
  settings: Settings,
  options: { admin?: boolean } = {},
): Promise<number> {
  if (action === 'add') checkAccountName(name!, 'user'); // before connecting: the rule is known here
  const client = await admin(settings);
  if (action === 'list') {
    const users = await client.users();
    process.stdout.write(
      table(
        ['USER', 'ADMIN', 'TOKENS', 'CREATED'],
        // TOKENS: a server started on another data folder over this database wrote `admin` one more.
        users.map((u) => [u.name, u.admin ? 'yes' : '', String(u.tokens ?? '?'), ago(u.createdAt)]),
      ) + '\n',
    );
  } else if (action === 'add') {
    const added = await client.addUser(name!, options.admin === true);
    const what = added.admin === true ? 'admin' : 'user';
    process.stdout.write(`added ${what} ${name}; their token (shown once): ${added.token}\n`);
    // A server from before --admin takes the flag as unknown and adds a plain user: say so.
    if (options.admin === true && added.admin !== true)
      process.stderr.write(
        `warning: the server at ${client.url} is older than users add --admin and made ${name} a user, not an admin\n`,
      );
  } else if (action === 'promote' || action === 'demote') {
    const { changed } = await client.setAdmin(name!, action === 'promote');
    const what = action === 'promote' ? 'an admin' : 'a user, not an admin';
    process.stdout.write(changed ? `${name} is now ${what}\n` : `${name} is already ${what}\n`);
  } else {
    const stopped = await client.deleteUser(name!);
    const jobs = stopped === 1 ? 'job' : `${stopped} jobs`;
    process.stdout.write(
      `deleted user ${name}` + (stopped > 0 ? `; stopped their unfinished ${jobs} (artifacts saved)` : '') + '\n',
    );
  }
  return 0;
}

export async function runnersCommand(
  action: 'list' | 'add' | 'delete',
  name: string | undefined,
  settings: Settings,
): Promise<number> {
  if (action === 'add') checkAccountName(name!, 'runner');
  const client = await admin(settings);
  if (action === 'add') {
    const { token } = await client.addRunner(name!);
    process.stdout.write(`added runner ${name}; start it on its machine with:\n` + runnerStartLines(token, client.url));
    return 0;
  }
  if (action === 'delete') {
    await client.deleteRunner(name!);
    process.stdout.write(`deleted runner ${name}\n`);
    return 0;
  }
  const runners = await client.runners();
  if (runners.length === 0) {
    process.stdout.write('No runners yet. Add one with: dstack runners add NAME\n');
    return 0;
  }
  process.stdout.write(renderRunners(runners) + '\n');
  return 0;
}

export function renderRunners(runners: readonly RunnerView[], now = Date.now()): string {
  const gpus = (r: RunnerView) =>
    r.total.gpus.length === 0 ? '-' : `${r.free.gpus.length}/${r.total.gpus.length} ${r.total.gpus[0]!.name}`;
  // What it told it can run besides commands on its host ('?': not told, as older runners and Slurm's).
  const docker = (r: RunnerView) => (r.total.docker === undefined ? '?' : r.total.docker ? 'yes' : 'no');
  const python = (r: RunnerView) =>
    r.total.python === undefined ? '?' : r.total.python.length === 0 ? '-' : r.total.python.join(' ');
  // Whether jobs without an image run on its host (`no`: --no-host-jobs; older runners do run them).
  const hostJobs = (r: RunnerView) => (r.total.host === false ? 'no' : 'yes');
  const rows = runners.map((r) =>
    r.status === 'NOT STARTED'
      ? [r.name, '-', '-', '-', '-', '-', '-', '-', r.status, '0', `added ${ago(r.updatedAt, now)}`]
      : [
          r.name,
          r.host,
          `${r.free.cpu}/${r.total.cpu}`,
          `${formatSize(r.free.memory)}/${formatSize(r.total.memory)}`,
          gpus(r),
          docker(r),
          python(r),
          hostJobs(r),
          r.status,
          String(r.jobs.length + r.otherJobs),
          ago(r.updatedAt, now),
        ],
  );
  return table(
    ['NAME', 'HOST', 'CPU', 'MEMORY', 'GPU', 'DOCKER', 'PYTHON', 'HOST JOBS', 'STATUS', 'JOBS', 'UPDATED'],
    rows,
  );
}
