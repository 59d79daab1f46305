/** TEST ONLY: a RemoteHost over one SSH session, for host-layer code that takes one (the image store) outside the provider. */
import { RemoteHost } from '../../provider/config/host-connections';
import { SshSession } from '../../provider/ssh/ssh-session';

export function remoteHostOf(session: SshSession): RemoteHost {
  return {
    name: session.host.name,
    exec: (command, options) => session.exec(command, options),
    readFile: (file, options) => session.readFile(file, options),
    writeFile: (file, data, options) => session.writeFile(file, data, options),
    withSession: (work) => work(session),
    session: async () => session,
  };
}
