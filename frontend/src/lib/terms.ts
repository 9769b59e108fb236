// One vocabulary for durations, used with the same words and definitions on the sessions list,
// session detail, review queue, heartbeats and dashboard (shown on hover by <Term>).

export const TERMS = {
  runDuration: {
    label: 'Run duration',
    definition: 'One run, from its start to its last event.',
  },
  runTime: {
    label: 'Run time',
    definition: 'Sum of the durations of a session’s runs: how long the agent was working.',
  },
  timeToCompletion: {
    label: 'Time to completion',
    definition: 'From the session’s first prompt to its last answer, waits included (wall clock).',
  },
} as const;

export type TermName = keyof typeof TERMS;
