/**
 * `dstack users token [NAME]` and `dstack runners token NAME`: a new token in place of one
 * that leaked; the old one stops working at once. A user's own new token goes into the saved
 * profiles that held the old one, so this CLI keeps working; another's is printed once, for
 * the admin to hand on, as `users add` and `runners add` print theirs; but not that of a runner
 * the server runs itself (its Slurm backend), which the server keeps and nobody needs to see.
 */
import { files } from '../../client/embedded.js';
import { configPath, readConfig, writeConfig } from '../../client/profiles.js';
import { DstackError, UnavailableError, UsageError } from '../../core/errors.js';
import type { Settings } from '../../settings.js';
import { connect, connectVia, type Connection } from '../connect.js';
import { runnerStartLines } from '../runner-start-line.js';

export async function userTokenCommand(name: string | undefined, settings: Settings): Promise<number> {
  const connection = await connectVia(settings);
  const { client } = connection;
  const { caller } = await client.health();
  if (name !== undefined && name !== caller) {
    const { token } = await client.replaceUserToken(name);
    process.stdout.write(
      `issued a new token for user ${name}; their old one no longer works. Their token (shown once): ${token}\n` +
        `they save it with: dstack config --server ${client.url} --token TOKEN\n`,
    );
    return 0;
  }
  if (connection.via === 'local') {
    // Its one user is this account, and the token never leaves it: the CLI reads it from that file.
    throw new UsageError(
      `the local server's token is this account's own: the CLI reads it from ${files(settings.home).token} ` +
        '(mode 0600) and no other machine sees it, so there is none to replace. dstack users token replaces ' +
        "a team server's tokens (use one with: dstack config --server URL --token TOKEN)",
    );
  }
  const { token } = await client.replaceUserToken(caller);
  const saved = await saveInProfiles(connection, token, settings.home);
  const lines = [`issued a new token for user ${caller}; the old one no longer works`];
  if (saved.length > 0) {
    const which = saved.map((p) => `'${p}'`).join(', ');
    lines.push(`saved it in profile${saved.length > 1 ? 's' : ''} ${which} (${configPath(settings.home)})`);
  }
  if (connection.via === 'env') {
    lines.push(`your token (shown once): ${token}`, 'DSTACK_TOKEN still holds the old one: set it to this one');
  }
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}

/**
 * Put `token` in place of the old one in every saved profile that held it (the one in use, and
 * any other naming the same token); their names. A write that fails shows the token, which
 * would otherwise be lost with the old one already refused.
 */
async function saveInProfiles(
  connection: Exclude<Connection, { via: 'local' }>,
  token: string,
  home: string,
): Promise<string[]> {
  const config = await readConfig(home);
  const held = Object.entries(config.profiles).filter(([, p]) => p.token === connection.token);
  if (held.length === 0) return [];
  for (const [, profile] of held) profile.token = token;
  try {
    await writeConfig(home, config);
  } catch (e) {
    process.stdout.write(`your new token (shown once): ${token}\n`);
    // Said already, with the folder and why (refused-write.ts), or Node's words with the file named here.
    const why = e instanceof DstackError ? e.message : `in ${configPath(home)} (${(e as Error).message})`;
    throw new UnavailableError(
      `could not save the new token: ${why}; ` +
        `save it with: dstack config --server ${connection.client.url} --token TOKEN` +
        (connection.via === 'profile' && connection.profile !== 'default' ? ` --profile ${connection.profile}` : ''),
      { cause: e },
    );
  }
  return held.map(([name]) => name);
}

export async function runnerTokenCommand(name: string, settings: Settings): Promise<number> {
  const client = await connect(settings);
  const { token, failed } = await client.replaceRunnerToken(name);
  const jobs = failed === 0 ? '' : ` (its ${failed === 1 ? 'job' : `${failed} jobs`} failed: runner token replaced)`;
  if (token === undefined) {
    process.stdout.write(
      `issued a new token for runner ${name}, which the server runs itself (its Slurm backend): the server keeps it ` +
        `and gives it to the batch jobs it submits from now on; the old one no longer works${jobs}\n`,
    );
    return 0;
  }
  process.stdout.write(
    `issued a new token for runner ${name}; the old one no longer works, and a runner process using it stops${jobs}. ` +
      'Start it again on its machine with:\n' +
      runnerStartLines(token, client.url),
  );
  return 0;
}
