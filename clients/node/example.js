#!/usr/bin/env node
'use strict';
// Logs in (or registers), then calls Sum in a loop for as long as asked,
// across as many access-token lifetimes as that takes, without asking for
// the password again: the session renews the token by itself.
//
//   TOLLGATE_PASSWORD='...' node example.js --email ada@example.com \
//     [--register] [--auth 127.0.0.1:50051] [--sum 127.0.0.1:50052] \
//     [--calls 10] [--interval 1]
//
// Prints one line per call; exit 0 when every call succeeded, 1 otherwise.
const { parseArgs } = require('node:util');
const { TollgateClient } = require('./index');

async function main() {
  const { values } = parseArgs({
    options: {
      auth: { type: 'string', default: process.env.TOLLGATE_AUTH_ADDR || '127.0.0.1:50051' },
      sum: { type: 'string', default: process.env.TOLLGATE_SUM_ADDR || '127.0.0.1:50052' },
      email: { type: 'string' },
      register: { type: 'boolean', default: false },
      calls: { type: 'string', default: '10' },
      interval: { type: 'string', default: '1' },
    },
  });
  const password = process.env.TOLLGATE_PASSWORD;
  if (!values.email || !password) {
    console.error('example: give --email and the password in TOLLGATE_PASSWORD');
    return 2;
  }
  const calls = Number(values.calls);
  const intervalMs = Number(values.interval) * 1000;

  const client = new TollgateClient({
    authAddress: values.auth,
    sumAddress: values.sum,
    onSessionEnded: (error) => console.error(`example: ${error.message}; log in again`),
  });
  try {
    if (values.register) {
      await client.register({
        email: values.email,
        password,
        first_name: 'Example',
        last_name: 'User',
      });
    } else {
      await client.login(values.email, password);
    }
    for (let i = 0; i < calls; i += 1) {
      const result = await client.sum(i, 1);
      const { refreshes, reactiveRetries } = client.session.stats;
      console.log(`sum(${i}, 1) = ${result}  (refreshes ${refreshes}, retries ${reactiveRetries})`);
      if (i + 1 < calls) await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
    return 0;
  } catch (error) {
    console.error(`example: ${error.code !== undefined ? `code ${error.code}: ` : ''}${error.details || error.message}`);
    return 1;
  } finally {
    client.close();
  }
}

main().then((code) => {
  process.exitCode = code;
});
