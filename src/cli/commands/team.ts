/** Team commands: `dstack config`, `dstack users`, `dstack runners`. */
import { Client } from '../../client/client.js';
import { configPath, readConfig, writeConfig } from '../../client/profiles.js';
import { UsageError } from '../../core/errors.js';
import type { RunnerView } from '../../core/api.js';
import { formatSize } from '../../core/resources.js';
import type { Settings } from '../../settings.js';
import { connect } from '../connect.js';
import { configToken, serverUrl } from '../credentials.js';
import { ago, table } from '../format.js';

export async function configCommand(
  options: { server?: string; token?: string; profile?: string },
  settings: Settings,
): Promise<number> {
  // Plain `dstack config` lists the profiles, as `dstack config list` does.
  if (options.server === undefined && options.token === undefined) return configListCommand(settings);
  if (!options.server || !options.token) throw new UsageError('dstack config needs --server URL and --token TOKEN');
  const name = options.profile ?? 'default';
  serverUrl(options.server, '--server');
  // Check before saving: a typo in the URL or token is better found now than at the next run.
  await new Client({ url: options.server, token: options.token, tokenSource: configToken }).health();
  const config = await readConfig(settings.home);
  config.profiles[name] = { server: options.server, token: options.token };
  config.current = name;
  await writeConfig(settings.home, config);
  process.stdout.write(
    `saved profile '${name}' (${options.server}) in ${configPath(settings.home)}; it is now the current one\n`,
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
  else process.stdout.write(table(['PROFILE', 'SERVER'], rows) + '\n');
  return 0;
}

async function admin(settings: Settings) {
  return connect(settings);
}

export async function usersCommand(
  action: 'list' | 'add' | 'delete',
  name: string | undefined,
  settings: Settings,
): Promise<number> {
  const client = await admin(settings);
  if (action === 'list') {
    const users = await client.users();
    process.stdout.write(
      table(
        ['USER', 'ADMIN', 'CREATED'],
        users.map((u) => [u.name, u.admin ? 'yes' : '', ago(u.createdAt)]),
      ) + '\n',
    );
  } else if (action === 'add') {
    const { token } = await client.addUser(name!);
    process.stdout.write(`added user ${name}; their token (shown once): ${token}\n`);
  } else {
    await client.deleteUser(name!);
    process.stdout.write(`deleted user ${name}\n`);
  }
  return 0;
}

export async function runnersCommand(
  action: 'list' | 'add' | 'delete',
  name: string | undefined,
  settings: Settings,
): Promise<number> {
  const client = await admin(settings);
  if (action === 'add') {
    const { token } = await client.addRunner(name!);
    process.stdout.write(
      `added runner ${name}; start it on its machine with:\n  DSTACK_TOKEN=${token} dstack runner start --server ${client.url}\n`,
    );
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
  const rows = runners.map((r) =>
    r.status === 'NOT STARTED'
      ? [r.name, '-', '-', '-', '-', r.status, '0', `added ${ago(r.updatedAt, now)}`]
      : [
          r.name,
          r.host,
          `${r.free.cpu}/${r.total.cpu}`,
          `${formatSize(r.free.memory)}/${formatSize(r.total.memory)}`,
          gpus(r),
          r.status,
          String(r.jobs.length + r.otherJobs),
          ago(r.updatedAt, now),
        ],
  );
  return table(['NAME', 'HOST', 'CPU', 'MEMORY', 'GPU', 'STATUS', 'JOBS', 'UPDATED'], rows);
}
