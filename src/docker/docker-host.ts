import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DockerOptions } from 'dockerode';

const DEFAULT_SOCKET = '/var/run/docker.sock';

/** What the docker CLI reads besides DOCKER_HOST, for tcp engines. */
export interface DockerTlsEnvironment {
  DOCKER_TLS_VERIFY?: string;
  DOCKER_CERT_PATH?: string;
}

export class InvalidDockerHostError extends Error {}

/**
 * dockerode options for an engine address written as DOCKER_HOST is (unix://, tcp://, ssh://,
 * http(s)://); undefined = the local socket. TLS for tcp follows DOCKER_TLS_VERIFY and
 * DOCKER_CERT_PATH (or port 2376), as the docker CLI does.
 */
export function dockerOptionsFor(host: string | undefined, tls: DockerTlsEnvironment = {}): DockerOptions {
  if (!host) return { socketPath: DEFAULT_SOCKET };
  if (host.startsWith('unix://')) return { socketPath: host.slice('unix://'.length) || DEFAULT_SOCKET };

  let url: URL;
  try {
    url = new URL(host);
  } catch {
    throw new InvalidDockerHostError(`not an engine address: ${describeDockerHost(host)}`);
  }
  if (!url.hostname) throw new InvalidDockerHostError(`not an engine address (no host): ${describeDockerHost(host)}`);
  switch (url.protocol) {
    case 'ssh:':
      return {
        protocol: 'ssh',
        host: url.hostname,
        port: url.port || 22,
        username: decodeURIComponent(url.username) || undefined,
        sshOptions: { agent: process.env.SSH_AUTH_SOCK },
      };
    case 'tcp:':
    case 'http:':
    case 'https:': {
      const secure = url.protocol === 'https:' || tls.DOCKER_TLS_VERIFY === '1' || url.port === '2376';
      const options: DockerOptions = {
        protocol: secure ? 'https' : 'http',
        host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: url.port || (secure ? 2376 : 2375),
      };
      if (secure && tls.DOCKER_CERT_PATH) {
        options.ca = readFileSync(join(tls.DOCKER_CERT_PATH, 'ca.pem'));
        options.cert = readFileSync(join(tls.DOCKER_CERT_PATH, 'cert.pem'));
        options.key = readFileSync(join(tls.DOCKER_CERT_PATH, 'key.pem'));
      }
      return options;
    }
    default:
      throw new InvalidDockerHostError(`unsupported engine address scheme ${url.protocol}// in ${describeDockerHost(host)}`);
  }
}

/** The address for messages: without a password, should one have been written into it. */
export function describeDockerHost(host: string | undefined): string {
  if (!host) return `unix://${DEFAULT_SOCKET}`;
  return host.replace(/^([a-z]+:\/\/[^:@/]*):[^@/]*@/i, '$1:***@');
}

/** The host a published port is reached on: the engine's own for remote engines, loopback for local ones. */
export function publishedPortHost(host: string | undefined, bindAddress: string | undefined): string {
  if (bindAddress && !['0.0.0.0', '::', ''].includes(bindAddress)) return bindAddress;
  if (!host || host.startsWith('unix://')) return '127.0.0.1';
  try {
    return new URL(host).hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
  } catch {
    return '127.0.0.1';
  }
}
