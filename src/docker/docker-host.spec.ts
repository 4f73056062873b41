import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeDockerHost, dockerOptionsFor, InvalidDockerHostError, publishedPortHost } from './docker-host';

describe('dockerOptionsFor (DOCKER_HOST as the docker CLI reads it)', () => {
  it('defaults to the local socket', () => {
    expect(dockerOptionsFor(undefined)).toEqual({ socketPath: '/var/run/docker.sock' });
    expect(dockerOptionsFor('unix://')).toEqual({ socketPath: '/var/run/docker.sock' });
  });

  it('takes a unix socket path', () => {
    expect(dockerOptionsFor('unix:///run/user/1000/podman/podman.sock')).toEqual({ socketPath: '/run/user/1000/podman/podman.sock' });
  });

  it('speaks plain HTTP to tcp:// on 2375 and TLS on 2376 or with DOCKER_TLS_VERIFY', () => {
    expect(dockerOptionsFor('tcp://10.0.0.5:2375')).toEqual({ protocol: 'http', host: '10.0.0.5', port: '2375' });
    expect(dockerOptionsFor('tcp://docker.internal')).toEqual({ protocol: 'http', host: 'docker.internal', port: 2375 });
    expect(dockerOptionsFor('tcp://docker.internal:2376')).toMatchObject({ protocol: 'https', port: '2376' });
    expect(dockerOptionsFor('tcp://docker.internal:4243', { DOCKER_TLS_VERIFY: '1' })).toMatchObject({ protocol: 'https' });
    expect(dockerOptionsFor('tcp://[::1]:2375')).toMatchObject({ host: '::1' });
  });

  it('reads client certificates from DOCKER_CERT_PATH for TLS', () => {
    const dir = mkdtempSync(join(tmpdir(), 'certs-'));
    for (const file of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(join(dir, file), `${file} contents`);
    const options = dockerOptionsFor('tcp://engine:2376', { DOCKER_CERT_PATH: dir });
    expect(String(options.ca)).toBe('ca.pem contents');
    expect(String(options.cert)).toBe('cert.pem contents');
    expect(String(options.key)).toBe('key.pem contents');
  });

  it('connects over ssh with the user and port given', () => {
    expect(dockerOptionsFor('ssh://deploy@build-host:2222')).toMatchObject({
      protocol: 'ssh',
      host: 'build-host',
      port: '2222',
      username: 'deploy',
    });
    expect(dockerOptionsFor('ssh://build-host')).toMatchObject({ protocol: 'ssh', port: 22, username: undefined });
  });

  it('refuses what it cannot connect to, naming the address', () => {
    expect(() => dockerOptionsFor('npipe:////./pipe/docker_engine')).toThrow(InvalidDockerHostError);
    expect(() => dockerOptionsFor('tcp://')).toThrow(/not an engine address/);
  });
});

describe('describeDockerHost', () => {
  it('hides a password written into the address', () => {
    expect(describeDockerHost('tcp://admin:s3cret@engine:2375')).toBe('tcp://admin:***@engine:2375');
    expect(describeDockerHost('ssh://deploy@host')).toBe('ssh://deploy@host');
    expect(describeDockerHost(undefined)).toBe('unix:///var/run/docker.sock');
  });
});

describe('publishedPortHost', () => {
  it('uses the bound address, else loopback for local engines and the engine host for remote ones', () => {
    expect(publishedPortHost(undefined, '127.0.0.1')).toBe('127.0.0.1');
    expect(publishedPortHost('unix:///x.sock', '0.0.0.0')).toBe('127.0.0.1');
    expect(publishedPortHost(undefined, undefined)).toBe('127.0.0.1');
    expect(publishedPortHost('tcp://10.1.2.3:2375', '0.0.0.0')).toBe('10.1.2.3');
    expect(publishedPortHost('ssh://deploy@build-host', '')).toBe('build-host');
  });
});
