/**
 * `dstack help [COMMAND...]`: the help of `dstack COMMAND... --help`, for every command, nested ones
 * too (`dstack help tags add`). Commander's own help command reads one name and prints a help
 * built from the declaration, which for `run` (whose help lists the project's workflows and its
 * own flags) is a bare `Usage: dstack run [args...]`; so the words are parsed again, with --help.
 */
import type { Command } from 'commander';
import { UsageError } from '../core/errors.js';

/** `again(argv)`: parse `argv` (user words) with a fresh program, as `dstack ARGV` would be. */
export function addHelpCommand(program: Command, again: (argv: string[]) => Promise<void>): void {
  program
    .command('help')
    .description('display help for a command (dstack help tags add: as dstack tags add --help)')
    .argument('[command...]')
    .action((names: string[]) => {
      // `run` reads its own arguments: `dstack help run train` is `dstack run train --help`.
      let command = program;
      for (const [i, name] of names.entries()) {
        if (command.name() === 'run') break;
        const sub = command.commands.find((c) => c.name() === name || c.aliases().includes(name));
        if (sub === undefined) {
          const path = ['dstack', ...names.slice(0, i)].join(' ');
          const says = command.commands.length > 0 ? 'lists its commands' : 'shows what it takes';
          throw new UsageError(`'${path}' has no command '${name}' (${path} --help ${says})`);
        }
        command = sub;
      }
      return again([...names, '--help']);
    });
}
