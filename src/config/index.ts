/**
 * `config/`: reads and validates `.dstack/*.yaml` into the core types (core/workflow.ts),
 * with errors that name file, line and column.
 */
export { buildProject, loadProject } from './project.js';
export { findProjectRoot } from './project-root.js';
export { PROVIDERS_FILE, parseProviders } from './providers.js';
export { GLOBAL_SECTION, VARIABLES_FILE, parseVariables } from './variables.js';
export { WORKFLOWS_FILE, parseWorkflows, type ParsedWorkflows } from './workflows.js';
