/**
 * The project configuration as dstack understands it, after `config/` has read and
 * validated the YAML. String fields are still unsubstituted: variables are resolved
 * per run by the planner, so that one config serves every `dstack run`.
 */
import type { SourceLocation } from './errors.js';

/** A scalar value as written in YAML, before substitution. */
export type RawValue = string;

export interface GpuConfig {
  count?: RawValue;
  name?: RawValue;
  memory?: RawValue;
}

export interface ResourcesConfig {
  cpu?: RawValue;
  memory?: RawValue;
  gpu?: GpuConfig;
  shmSize?: RawValue;
  /** `true`, `no`…; checked when read, or once substituted when it uses variables. */
  interruptible?: RawValue;
}

/**
 * One `depends-on` (or `deps`) item: a workflow of this file (`prepare`), or the jobs of a
 * tagged run (`prepare:latest`: its `prepare` jobs; `:latest` or `{tag: latest}`: all its jobs).
 * A tag dependency names a run, not a workflow of this file: the workflow need not be defined here.
 */
export type DependencyConfig = { workflow: string; tag?: undefined } | { tag: string; workflow?: string };

export interface WorkflowConfig {
  name: string;
  /** `bash`, `docker`, `python`, `curl` or a custom provider's name. */
  provider: string;
  /** The repository of a provider written `provider: {repo, name}` (a custom provider from elsewhere). */
  providerRepo?: string;
  image?: RawValue;
  commands: RawValue[];
  dependsOn: DependencyConfig[];
  artifacts: RawValue[];
  resources: ResourcesConfig;
  environment: Record<string, RawValue>;
  /** Globs (relative to the project root) that narrow which files count for the cache. */
  inputs?: string[];
  help?: string;
  /** Provider parameters not modelled above (`python_script`, `requirements`, `url`, ...). */
  params: Record<string, unknown>;
  /** Where each field was written, keyed by its dotted path (`commands.1`, `resources.gpu`). */
  locations: Record<string, SourceLocation>;
  /** The workflow's own position (its `- name:` item). */
  location: SourceLocation;
}

export interface VariablesConfig {
  global: Record<string, string>;
  perWorkflow: Record<string, Record<string, string>>;
  locations: Record<string, SourceLocation>;
}

/** A custom provider declared in `.dstack/providers.yaml`: a program that makes job specs. */
export interface ProviderDefinition {
  name: string;
  image?: RawValue;
  commands: RawValue[];
  /** Where its `- name:` item is. */
  location: SourceLocation;
}

export interface ProjectConfig {
  /** Absolute path of the folder that holds `.dstack/`. */
  root: string;
  workflows: WorkflowConfig[];
  variables: VariablesConfig;
  /** `.dstack/providers.yaml`; none when the file is absent. */
  providers?: ProviderDefinition[];
  warnings: string[];
}

export const WORKFLOW_NAME = /^[a-z0-9][a-z0-9_-]*$/;
