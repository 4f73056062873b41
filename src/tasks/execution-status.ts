export const EXECUTION_STATUSES = ['running', 'success', 'failed', 'timeout', 'cancelled', 'skipped'] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

export const EXECUTION_TRIGGERS = ['schedule', 'manual', 'catch-up'] as const;
export type ExecutionTrigger = (typeof EXECUTION_TRIGGERS)[number];
