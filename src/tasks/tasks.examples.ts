/** The seed contract's example requests, offered in Swagger UI. */
export const CREATE_TASK_EXAMPLES = {
  healthCheck: {
    summary: 'Health check',
    value: {
      name: 'Production Health Check',
      enabled: true,
      type: 'health-check',
      projectId: 'production',
      cronExpression: '*/5 * * * *',
      timezone: 'UTC',
      healthCheckConfig: { checkContainers: true, checkConnectivity: true, alertOnFailure: true },
    },
  },
  backup: {
    summary: 'Backup',
    value: {
      name: 'Daily Full Backup',
      enabled: true,
      type: 'backup',
      projectId: 'production',
      cronExpression: '0 2 * * *',
      timezone: 'America/New_York',
      backupConfig: { type: 'full', destination: 's3', encrypt: true },
    },
  },
  containerUpdate: {
    summary: 'Container update',
    value: {
      name: 'Weekly Updates',
      enabled: true,
      type: 'container-update',
      projectId: 'production',
      cronExpression: '0 4 * * 0',
      timezone: 'UTC',
      containerUpdateConfig: { pullImages: true, restartAfterUpdate: true },
    },
  },
  custom: {
    summary: 'Custom command (on the host: needs tasks:host-commands)',
    value: {
      name: 'Database Vacuum',
      enabled: true,
      type: 'custom',
      projectId: 'production',
      cronExpression: '0 5 * * 0',
      timezone: 'UTC',
      customConfig: { command: "docker exec production-db psql -U postgres -c 'VACUUM ANALYZE;'" },
    },
  },
};

export const UPDATE_TASK_EXAMPLE = { name: 'Updated Task Name', enabled: false, cronExpression: '0 3 * * *' };
