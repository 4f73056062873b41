import { readFile } from 'node:fs/promises';

export interface OsUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/** Looks a user up in /etc/passwd (Node has no getpwnam); an unknown one stops the start. */
export async function resolveOsUser(name: string, passwdFile = '/etc/passwd'): Promise<OsUser> {
  const passwd = await readFile(passwdFile, 'utf8');
  for (const line of passwd.split('\n')) {
    const [user, , uid, gid, , home] = line.split(':');
    if (user === name && uid !== undefined && gid !== undefined) {
      return { name, uid: Number(uid), gid: Number(gid), home: home || '/' };
    }
  }
  throw new Error(`CUSTOM_HOST_COMMANDS_USER: no user "${name}" in ${passwdFile}`);
}
