/**
 * What `dstack runner start --cpu`/`--memory` offer beyond what this machine has. Offering more
 * is allowed (docs/decisions.md: `--cpu 8` on 2 cores takes more jobs at once, and they share
 * the cores), but `--cpu 1000` or `--memory 1000TB` is as likely a typo, accepted in silence.
 */
import { formatSize, plural } from '../../core/resources.js';

/** A warning per declared size above this machine's; none where the flag is absent or within it. */
export function overOfferWarnings(
  declared: { cpu?: number; memory?: number },
  machine: { cpu: number; memory: number },
): string[] {
  const warnings: string[] = [];
  if (declared.cpu !== undefined && declared.cpu > machine.cpu)
    warnings.push(
      `--cpu ${declared.cpu} offers more than this machine's ${plural(machine.cpu, 'CPU')}: jobs asking for up to ` +
        `${plural(declared.cpu, 'CPU')} run here and share its ${machine.cpu}; lower --cpu if that is not meant`,
    );
  if (declared.memory !== undefined && declared.memory > machine.memory)
    warnings.push(
      `--memory ${formatSize(declared.memory)} offers more than this machine's ${formatSize(machine.memory)} of ` +
        `memory: jobs asking for more than ${formatSize(machine.memory)} run here and may run out of it; lower ` +
        '--memory if that is not meant',
    );
  return warnings;
}
