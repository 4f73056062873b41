import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { archivedMounts, retentionVictims } from './backup.executor';

const day = 86_400_000;
const at = (daysAgo: number) => new Date(Date.UTC(2026, 10, 29) - daysAgo * day);
const backup = (id: string, daysAgo: number) => ({ id, createdAt: at(daysAgo) });

describe('retentionVictims', () => {
  const current = backup('new', 0);
  const older = [backup('b1', 1), backup('b2', 2), backup('b3', 3), backup('b4', 10)];

  it('keepLast counts the backup just made and removes everything beyond', () => {
    expect(retentionVictims(current, [current, ...older], { keepLast: 2 }).map((b) => b.id)).toEqual(['b2', 'b3', 'b4']);
    expect(retentionVictims(current, [current, ...older], { keepLast: 1 }).map((b) => b.id)).toEqual(['b1', 'b2', 'b3', 'b4']);
    expect(retentionVictims(current, older, { keepLast: 5 })).toEqual([]);
  });

  it('maxAgeDays removes what is older than that before the new backup', () => {
    expect(retentionVictims(current, [current, ...older], { maxAgeDays: 2.5 }).map((b) => b.id)).toEqual(['b3', 'b4']);
  });

  it('either rule removes a backup; the new one never goes', () => {
    expect(retentionVictims(current, [current, ...older], { keepLast: 4, maxAgeDays: 5 }).map((b) => b.id)).toEqual(['b4']);
    expect(retentionVictims(current, [current], { keepLast: 1, maxAgeDays: 0 })).toEqual([]);
  });
});

const container = (name: string, mounts: Array<Partial<Docker.ContainerInspectInfo['Mounts'][number]>>) =>
  ({ Id: `id-${name}`, Name: `/${name}`, Mounts: mounts }) as unknown as Docker.ContainerInspectInfo;

describe('archivedMounts', () => {
  const containers = [
    container('db', [
      { Type: 'volume', Name: 'shop_db', Source: '/var/lib/docker/volumes/shop_db/_data', Destination: '/var/lib/postgresql/data' },
      { Type: 'bind', Source: '/srv/shop/conf', Destination: '/etc/app' },
    ]),
    container('web', [
      { Type: 'volume', Name: 'shop_db', Source: '/var/lib/docker/volumes/shop_db/_data', Destination: '/mnt/db' },
      { Type: 'bind', Source: '/srv/shop conf', Destination: '/etc/other' },
      { Type: 'tmpfs', Source: '', Destination: '/tmp' },
    ]),
  ];

  it('lists each named volume once, with every container that mounts it, read from the first', () => {
    expect(archivedMounts(containers, false)).toEqual([
      {
        kind: 'volume',
        name: 'shop_db',
        prefix: 'volumes/shop_db/',
        mountedBy: [
          { container: 'db', destination: '/var/lib/postgresql/data' },
          { container: 'web', destination: '/mnt/db' },
        ],
        readFrom: { id: 'id-db', destination: '/var/lib/postgresql/data' },
      },
    ]);
  });

  it('adds bind mounts for full backups, under prefixes that never collide', () => {
    const binds = archivedMounts(containers, true).filter((mount) => mount.kind === 'bind');
    expect(Object.fromEntries(binds.map((mount) => [mount.name, mount.prefix]))).toEqual({
      '/srv/shop/conf': 'binds/srv_shop_conf/',
      '/srv/shop conf': 'binds/srv_shop_conf-2/',
    });
  });
});
