'use strict';
const grpc = require('@grpc/grpc-js');
const { loadTollgateServices } = require('./protos');
const { Session } = require('./session');
const { unaryCall } = require('./unary_call');

// AuthService and SumService behind one object, with a Session that keeps
// the access token fresh (see session.js for the renewal contract).
//
//   const client = new TollgateClient({ authAddress: '127.0.0.1:50051',
//                                       sumAddress: '127.0.0.1:50052' });
//   await client.login('ada@example.com', password);
//   await client.sum(40, 2);   // '42' (int64 as a decimal string)
//   client.close();
//
// Errors are grpc-js's (error.code is a grpc.status value, error.details
// the server's message), or SessionEndedError once the session is over.
class TollgateClient {
  // credentials: grpc-js channel credentials (default plaintext; e.g.
  // grpc.credentials.createSsl(caPem) for TLS). protoRoot: the folder
  // holding tollgate/... .proto files (default: this checkout's proto/).
  // The other options go to Session.
  constructor({
    authAddress,
    sumAddress,
    credentials = grpc.credentials.createInsecure(),
    protoRoot,
    renewBeforeSeconds,
    deadlineSeconds = 10,
    now,
    onSessionEnded,
  }) {
    const { AuthService, SumService } = loadTollgateServices(protoRoot);
    this.deadlineSeconds = deadlineSeconds;
    this.authStub = new AuthService(authAddress, credentials);
    this.sumStub = sumAddress ? new SumService(sumAddress, credentials) : null;
    this.session = new Session({
      authStub: this.authStub,
      renewBeforeSeconds,
      deadlineSeconds,
      now,
      onSessionEnded,
    });
  }

  // { email, password, first_name, last_name }; resolves with the AuthResponse.
  register(account) {
    return this.session.register(account);
  }

  login(email, password) {
    return this.session.login(email, password);
  }

  logout(options) {
    return this.session.logout(options);
  }

  // SumService.Sum: resolves with a + b as a decimal string.
  async sum(a, b) {
    if (!this.sumStub) throw new Error('no sumAddress given');
    const response = await this.call(this.sumStub, 'Sum', { a: String(a), b: String(b) });
    return response.result;
  }

  // Any unary method of any grpc-js client whose server checks tollgate's
  // access tokens (the interceptor), with the session's token and renewal.
  call(stub, method, request) {
    return this.session.withAccessToken((metadata) =>
      unaryCall(stub, method, request, { metadata, deadlineSeconds: this.deadlineSeconds }),
    );
  }

  close() {
    this.authStub.close();
    if (this.sumStub) this.sumStub.close();
  }
}

module.exports = { TollgateClient };
