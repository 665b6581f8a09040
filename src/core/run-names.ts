/** Run names like `fast-rabbit-1`: easy to say, type and tell apart. */

const ADJECTIVES = [
  'brave',
  'bright',
  'calm',
  'clever',
  'cool',
  'eager',
  'fast',
  'fine',
  'fresh',
  'gentle',
  'glad',
  'golden',
  'good',
  'grand',
  'happy',
  'keen',
  'kind',
  'light',
  'lucky',
  'mighty',
  'nice',
  'noble',
  'proud',
  'quick',
  'quiet',
  'rapid',
  'sharp',
  'shiny',
  'silent',
  'smart',
  'smooth',
  'solid',
  'sunny',
  'swift',
  'tidy',
  'wise',
];
const ANIMALS = [
  'badger',
  'bat',
  'bear',
  'beaver',
  'bee',
  'bison',
  'cat',
  'cheetah',
  'crab',
  'crane',
  'cricket',
  'deer',
  'dolphin',
  'eagle',
  'falcon',
  'fox',
  'frog',
  'goat',
  'hawk',
  'horse',
  'lion',
  'lynx',
  'mole',
  'moose',
  'otter',
  'owl',
  'panda',
  'parrot',
  'rabbit',
  'raven',
  'seal',
  'shark',
  'squid',
  'swan',
  'tiger',
  'wolf',
];

/** `adjective-animal`; the store numbers runs that share it: `fast-rabbit-1`, `fast-rabbit-2`. */
export function runNamePrefix(random: () => number = Math.random): string {
  const pick = (list: readonly string[]) => list[Math.floor(random() * list.length)]!;
  return `${pick(ADJECTIVES)}-${pick(ANIMALS)}`;
}

export const RUN_NAME = /^[a-z]+-[a-z]+-\d+$/;
export const JOB_ID = /^[0-9a-f]{12}$/;
/**
 * A job id's start, as git takes a commit's: at least 4 of its 12 hex digits. A run's name
 * (`fast-rabbit-1`) never looks like one, so the two are never confused.
 */
export const JOB_ID_PREFIX = /^[0-9a-f]{4,11}$/;

/**
 * Whether `target`, as typed (a run's name, a job's id, or its start, which the server has
 * found to start one job of the caller's), names job `id` of run `runName`.
 */
export function targetNames(target: string, runName: string, id: string): boolean {
  return target === runName || id === target || (JOB_ID_PREFIX.test(target) && id.startsWith(target));
}
