/**
 * `config/`: reads and validates `.dstack/*.yaml` into the core types (core/workflow.ts),
 * with errors that name file, line and column.
 */
export { buildProject, findProjectRoot, loadProject } from './project.js';
export { PROVIDERS_FILE, parseProviders } from './providers.js';
export { GLOBAL_SECTION, VARIABLES_FILE, parseVariables } from './variables.js';
export { WORKFLOWS_FILE, parseWorkflows, type ParsedWorkflows } from './workflows.js';
