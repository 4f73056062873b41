export const TASK_TYPES = ['health-check', 'backup', 'container-update', 'custom'] as const;
export type TaskType = (typeof TASK_TYPES)[number];
