/** Loads the gRPC service definitions from our .proto files (provider/protocol/proto). */
import * as fs from 'fs';
import * as path from 'path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

export interface ServiceDefinitions {
  provider: grpc.ServiceDefinition;
  controller: grpc.ServiceDefinition;
  stdio: grpc.ServiceDefinition;
}

const PROTO_FILES = ['tfplugin6.proto', 'grpc_controller.proto', 'grpc_stdio.proto'];

/**
 * The .proto files sit next to this module in the source tree and in an installed build;
 * a plain `tsc` build (dist/) does not copy them, so it falls back to the source tree.
 */
export function protoDirectory(): string {
  const candidates = [path.join(__dirname, 'proto'), path.resolve(__dirname, '../../../provider/protocol/proto')];
  const found = candidates.find((dir) => fs.existsSync(path.join(dir, PROTO_FILES[0])));
  if (!found) throw new Error(`the provider's .proto files are missing; looked in ${candidates.join(' and ')}`);
  return found;
}

let cached: ServiceDefinitions | undefined;

export function loadServiceDefinitions(): ServiceDefinitions {
  if (!cached) {
    const definition = protoLoader.loadSync(PROTO_FILES, {
      includeDirs: [protoDirectory()],
      keepCase: true,
      longs: Number,
      enums: String,
      defaults: true,
      oneofs: true,
    });
    const loaded = grpc.loadPackageDefinition(definition) as unknown as {
      tfplugin6: { Provider: grpc.ServiceClientConstructor };
      plugin: { GRPCController: grpc.ServiceClientConstructor; GRPCStdio: grpc.ServiceClientConstructor };
    };
    cached = {
      provider: loaded.tfplugin6.Provider.service,
      controller: loaded.plugin.GRPCController.service,
      stdio: loaded.plugin.GRPCStdio.service,
    };
  }
  return cached;
}

/** Client constructors, for tests and benchmarks that talk to a provider directly. */
export function loadClientConstructors(): {
  Provider: grpc.ServiceClientConstructor;
  GRPCController: grpc.ServiceClientConstructor;
} {
  const definitions = loadServiceDefinitions();
  return {
    Provider: grpc.makeGenericClientConstructor(definitions.provider, 'tfplugin6.Provider'),
    GRPCController: grpc.makeGenericClientConstructor(definitions.controller, 'plugin.GRPCController'),
  };
}
