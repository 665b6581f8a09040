/**
 * Groups whose commands include a default one (`dstack tags` is `dstack tags list`): commander
 * hands the default any first word that names none of the group's commands, so `dstack tags rm x`
 * said `too many arguments for 'list'`. Such a word is refused here as the unknown command it is,
 * and so is one given to a group that runs itself (`dstack config bogus`).
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

/**
 * Refuse `dstack GROUP WORD` where WORD is no command of the group. With `defaultName`, options
 * go to that default command as before; without, the group runs itself when no command is named
 * (`dstack config --server URL`), where commander said `too many arguments for 'config'`.
 */
export function refuseUnknownSubcommands(group: Command, defaultName?: string): void {
  if (defaultName === undefined) {
    // Commander counts arguments before any hook: let them through to be named here. A command
    // added to the group later would inherit this, so the group's commands must be added first.
    group.allowExcessArguments();
    group.hook('preAction', (self, action) => {
      const word = self.args[0];
      if (action === self && word !== undefined) throw unknownCommand(self, word, `, or options alone`);
    });
    return;
  }
  group.hook('preSubcommand', (self, sub) => {
    const word = self.args[0];
    if (sub.name() !== defaultName || word === undefined || word === defaultName || word.startsWith('-')) return;
    throw unknownCommand(self, word, '');
  });
}

/** `unknown command 'dstack GROUP WORD' (dstack GROUP takes …)`, `more` after the list, then any suggestion. */
function unknownCommand(group: Command, word: string, more: string): UsageError {
  const names = group.commands.map((c) => c.name()).filter((n) => n !== 'help');
  const path = `dstack ${group.name()}`;
  const synonym = SYNONYMS[word];
  const hint =
    synonym !== undefined && names.includes(synonym) ? `; did you mean '${synonym}'?` : didYouMean(word, names);
  return new UsageError(`unknown command '${path} ${word}' (${path} takes ${names.join(', ')}${more})${hint}`);
}
