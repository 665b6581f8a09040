/** The dashboard's Resume dialog reads the rule `dstack resume RUN` prints by: it lives in core. */
export { resumePlan, type ResumePlan } from '../../../src/core/resume-plan.js';
