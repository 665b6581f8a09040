/**
 * Groups whose commands include a default one (`dstack tags` is `dstack tags list`): commander
 * hands the default any first word that names none of the group's commands, so `dstack tags rm x`
 * said `too many arguments for 'list'`. Such a word is refused here as the unknown command it is.
 */
import type { Command } from 'commander';
import { UsageError } from '../core/errors.js';
import { didYouMean } from '../core/suggest.js';

/** Other tools' words for a command, and dstack's: no edit distance takes `rm` to `delete`. */
const SYNONYMS: Readonly<Record<string, string>> = {
  rm: 'delete',
  remove: 'delete',
  del: 'delete',
  ls: 'list',
  show: 'list',
  create: 'add',
  new: 'add',
};

/** Refuse `dstack GROUP WORD` where WORD is no command of the group (options go to the default as before). */
export function refuseUnknownSubcommands(group: Command, defaultName: string): void {
  group.hook('preSubcommand', (self, sub) => {
    const word = self.args[0];
    if (sub.name() !== defaultName || word === undefined || word === defaultName || word.startsWith('-')) return;
    const names = self.commands.map((c) => c.name()).filter((n) => n !== 'help');
    const path = `dstack ${self.name()}`;
    const synonym = SYNONYMS[word];
    const hint =
      synonym !== undefined && names.includes(synonym) ? `; did you mean '${synonym}'?` : didYouMean(word, names);
    throw new UsageError(`unknown command '${path} ${word}' (${path} takes ${names.join(', ')})${hint}`);
  });
}
