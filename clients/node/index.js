'use strict';
// tollgate's Node.js example client: see the "Clients" section of the
// repository's README.
const { TollgateClient } = require('./src/tollgate_client');
const { Session } = require('./src/session');
const { SessionEndedError } = require('./src/errors');
const { decodeClaimsUnverified, tokenTimes, MalformedTokenError } = require('./src/token_claims');
const { loadTollgateServices } = require('./src/protos');

module.exports = {
  TollgateClient,
  Session,
  SessionEndedError,
  MalformedTokenError,
  decodeClaimsUnverified,
  tokenTimes,
  loadTollgateServices,
};
