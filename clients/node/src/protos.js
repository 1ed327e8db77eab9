'use strict';
// The project's own .proto files, loaded at run time with
// @grpc/proto-loader: no generated code to keep in step with proto/.
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

// proto/ at the root of the checkout (clients/node/src -> ../../../proto).
const DEFAULT_PROTO_ROOT = path.resolve(__dirname, '..', '..', '..', 'proto');

const PROTO_FILES = ['tollgate/auth/v1/auth.proto', 'tollgate/sum/v1/sum.proto'];

// Field names as in the .proto (snake_case); int64 as decimal strings, since
// a JavaScript number cannot hold every int64; default values filled in.
const LOADER_OPTIONS = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

// Returns the service constructors { AuthService, SumService } (grpc-js
// client classes) built from the .proto files under `protoRoot`.
function loadTollgateServices(protoRoot = DEFAULT_PROTO_ROOT) {
  const definition = protoLoader.loadSync(PROTO_FILES, {
    ...LOADER_OPTIONS,
    includeDirs: [protoRoot],
  });
  const loaded = grpc.loadPackageDefinition(definition);
  return {
    AuthService: loaded.tollgate.auth.v1.AuthService,
    SumService: loaded.tollgate.sum.v1.SumService,
  };
}

module.exports = { DEFAULT_PROTO_ROOT, loadTollgateServices };
