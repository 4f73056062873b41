import { describe, expect, it } from 'vitest';
import { InvalidEnvironmentError, validateEnvironment } from './environment';

describe('validateEnvironment', () => {
  it('gives the documented defaults for an empty environment', () => {
    const environment = validateEnvironment({});
    expect(environment).toMatchObject({
      PORT: 3000,
      HOST: '0.0.0.0',
      DATA_DIR: './data',
      CORS_ORIGINS: [],
      CUSTOM_HOST_COMMANDS: 'enabled',
      LOG_LEVEL: 'log',
      LOG_REQUESTS: true,
    });
    expect(environment.DATABASE_URL).toBeUndefined();
    expect(environment.ADMIN_API_KEY).toBeUndefined();
  });

  it('parses numbers, booleans and lists; treats empty values as unset', () => {
    const environment = validateEnvironment({
      PORT: '8080',
      LOG_REQUESTS: 'false',
      CORS_ORIGINS: 'https://a.example.com, http://b.example.com:8080',
      DATABASE_URL: '',
    });
    expect(environment.PORT).toBe(8080);
    expect(environment.LOG_REQUESTS).toBe(false);
    expect(environment.CORS_ORIGINS).toEqual(['https://a.example.com', 'http://b.example.com:8080']);
    expect(environment.DATABASE_URL).toBeUndefined();
  });

  it('names every invalid variable in one message, without echoing secret values', () => {
    const secret = 'tiny-secret';
    let error: unknown;
    try {
      validateEnvironment({ PORT: '0', LOG_REQUESTS: 'maybe', ADMIN_API_KEY: secret, DATABASE_URL: 'mysql://x' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidEnvironmentError);
    const message = (error as Error).message;
    for (const variable of ['PORT', 'LOG_REQUESTS', 'ADMIN_API_KEY', 'DATABASE_URL']) expect(message).toContain(variable);
    expect(message).not.toContain(secret);
  });
});
