/**
 * `dstack server` flags of the backends (Slurm): declared here, read by server-backends.ts.
 * Loaded with the CLI's start, so it imports nothing but commander.
 */
import type { Command } from 'commander';

export function addBackendFlags(server: Command): Command {
  return server
    .option('--config <file>', "a server config file (YAML); its 'backends:' list adds backends")
    .option('--backend <type>', "run jobs on a cluster: 'slurm' (see docs/slurm.md)")
    .option('--slurm-partition <name>', 'Slurm partition to submit to (default: the cluster default)')
    .option('--slurm-account <name>', 'Slurm account to charge')
    .option('--slurm-work-dir <dir>', 'a folder the server and the compute nodes share (default <data-dir>/slurm/work)')
    .option('--slurm-server-url <url>', "the server's URL as compute nodes reach it (default: the URL it listens on)")
    .option('--slurm-dstack <command>', 'how a compute node runs dstack (default: this node and this install)')
    .option(
      '--slurm-sbatch-args <args>',
      'more sbatch options, split as a shell would: \'--qos=high --comment="my team"\'',
    )
    .option(
      '--slurm-docker',
      'the compute nodes have a Docker engine: take jobs with an image (default: they have none)',
    )
    .option(
      '--slurm-python <versions>',
      "the Pythons the nodes have, as '3,3.11' (default: those on the server's PATH)",
    )
    .option('--slurm-poll <seconds>', "how often Slurm's queue is read (default 1)")
    .option('--slurm-sbatch <path>', 'path of sbatch (default: on PATH)')
    .option('--slurm-squeue <path>', 'path of squeue')
    .option('--slurm-scancel <path>', 'path of scancel')
    .option('--slurm-sacct <path>', 'path of sacct')
    .option('--slurm-sinfo <path>', 'path of sinfo');
}
